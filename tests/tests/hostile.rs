//! Hostile clients against the real server code (net-adapter's `serve` over
//! tokio TCP) on loopback: each attack ends only the attacker's connection, with
//! a typed reason, while a well-behaved client in the same run keeps getting
//! answers in time. `sim --bin attack` runs the same attacks against the
//! `mmo-server` binary and measures RTT and memory.

mod common;

use common::{disconnect, hello, login, RawClient, Received, Server};
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, ClientWorld, DisconnectReason, MoveInput, ServerMsg,
    ServerSession, ServerWorld, Violation, MAX_CLIENT_PAYLOAD,
};
use net_adapter::{Metrics, ServerConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Short deadlines so the tests take seconds; caps held to loopback too.
fn config() -> ServerConfig {
    let mut c = ServerConfig {
        status_interval_s: 0,
        per_address_exempt: Vec::new(),
        ..ServerConfig::default()
    };
    c.node.session.handshake_timeout_ms = 500;
    c.node.session.frame_timeout_ms = 300;
    c
}

async fn start(config: ServerConfig) -> Server {
    Server::start(config).await
}

/// A logged-in client answers a ping within `budget`: the attack next to it
/// did not starve it.
async fn answers_in_time(good: &mut RawClient<TcpStream>, seq: u32, budget: Duration) {
    let sent = std::time::Instant::now();
    good.send(&[ClientMsg::Session(ClientSession::Ping {
        seq,
        client_time_us: 0,
    })])
    .await;
    loop {
        match good.recv().await {
            Received::Msg(ServerMsg::Session(ServerSession::Pong { seq: s, .. })) if s == seq => {
                break
            }
            Received::Msg(ServerMsg::Session(ServerSession::Disconnect { reason })) => {
                panic!("the well-behaved client was cut: {reason:?}")
            }
            Received::Closed => panic!("the well-behaved client was closed"),
            Received::Msg(_) => {}
        }
    }
    let rtt = sent.elapsed();
    assert!(rtt < budget, "RTT {rtt:?} over {budget:?}");
}

#[tokio::test]
async fn length_prefixes_up_to_4_gib_end_the_connection_at_once() {
    let server = start(config()).await;
    let mut good = server.client().await;
    good.login("good").await;
    for len in [MAX_CLIENT_PAYLOAD + 1, 1 << 30, u32::MAX] {
        let mut c = server.client().await;
        // The prefix alone: nothing of the claimed payload ever arrives.
        c.send_raw(&len.to_le_bytes()).await;
        assert_eq!(
            c.recv().await,
            disconnect(DisconnectReason::ProtocolViolation(
                Violation::FrameTooLarge
            ))
        );
        assert_eq!(c.recv().await, Received::Closed);
    }
    answers_in_time(&mut good, 1, Duration::from_millis(500)).await;
    let report = server.stop().await;
    assert_eq!(report.stats.disconnects.get("frame_too_large"), Some(&3));
}

#[tokio::test]
async fn a_frame_trickled_a_byte_at_a_time_is_cut_by_the_frame_deadline() {
    let server = start(config()).await;
    let mut good = server.client().await;
    good.login("good").await;
    let mut slow = server.client().await;
    slow.login("slow").await;
    let mut frame = Vec::new();
    encode_frame(
        &ClientMsg::Session(ClientSession::Ping {
            seq: 1,
            client_time_us: u64::MAX,
        }),
        MAX_CLIENT_PAYLOAD,
        &mut frame,
    )
    .unwrap();
    let started = std::time::Instant::now();
    // 100 ms a byte: the frame would take over a second; the deadline is 300 ms.
    for &b in &frame[..frame.len() - 1] {
        if slow.try_send_raw(&[b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        slow.recv_skipping_pings().await,
        disconnect(DisconnectReason::FrameTimeout)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    answers_in_time(&mut good, 1, Duration::from_millis(500)).await;
    let report = server.stop().await;
    assert_eq!(report.stats.disconnects.get("frame_timeout"), Some(&1));
}

#[tokio::test]
async fn connections_that_never_finish_the_handshake_are_closed() {
    let server = start(config()).await;
    let mut silent = server.client().await;
    let mut hello_only = server.client().await;
    hello_only.send(&[hello()]).await;
    for c in [&mut silent, &mut hello_only] {
        assert_eq!(
            c.recv().await,
            disconnect(DisconnectReason::HandshakeTimeout)
        );
        assert_eq!(c.recv().await, Received::Closed);
    }
    let report = server.stop().await;
    assert_eq!(report.stats.disconnects.get("handshake_timeout"), Some(&2));
}

#[tokio::test]
async fn connections_over_the_per_address_cap_are_refused_with_a_reason() {
    let server = start(ServerConfig {
        max_connections_per_address: 3,
        ..config()
    })
    .await;
    let mut held = Vec::new();
    for i in 0..3 {
        let mut c = server.client().await;
        c.login(&format!("p{i}")).await;
        held.push(c);
    }
    let mut extra = server.client().await;
    assert_eq!(
        extra.recv().await,
        disconnect(DisconnectReason::TooManyConnections)
    );
    assert_eq!(extra.recv().await, Received::Closed);
    // The held connections are untouched, and a place freed is a place again
    // (a player who says goodbye leaves at once; a dropped one would be kept
    // for a resume, and count, for the grace period).
    answers_in_time(&mut held[0], 1, Duration::from_millis(500)).await;
    let mut leaving = held.pop().expect("three held");
    leaving
        .send(&[ClientMsg::Session(ClientSession::Goodbye)])
        .await;
    drop(leaving);
    let mut admitted = false;
    for _ in 0..50 {
        let mut c = server.client().await;
        c.send(&[hello(), login("late")]).await;
        match c.recv_skipping_pings().await {
            Received::Msg(ServerMsg::Session(ServerSession::Welcome { .. })) => {
                admitted = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(admitted, "the freed place was never given back");
    let report = server.stop().await;
    assert!(report.refused.per_address >= 1);
    assert_eq!(report.refused.server_full, 0);
}

/// How one connect-and-login attempt ended.
#[derive(Debug, PartialEq)]
enum Attempt {
    /// Logged in and in the world.
    InWorld,
    /// Told `TooManyConnections`, at connect or at login.
    TooMany,
}

/// Connects, logs in as `name` and enters the world, or is refused.
async fn try_enter(server: &Server, name: &str) -> (Attempt, RawClient<TcpStream>) {
    let mut c = server.client().await;
    c.send(&[hello(), login(name)]).await;
    let too_many = disconnect(DisconnectReason::TooManyConnections);
    match c.recv_skipping_pings().await {
        Received::Msg(ServerMsg::Session(ServerSession::Welcome { .. })) => {}
        r if r == too_many => return (Attempt::TooMany, c),
        other => panic!("{name}: expected a welcome or a refusal, got {other:?}"),
    }
    // The character screen: create the character (named after the account)
    // if needed, and enter with it.
    let character = format!("c{name}");
    let mut created = false;
    loop {
        let reply = match c.recv_skipping_pings().await {
            Received::Msg(ServerMsg::World(ServerWorld::ZoneEntered(_))) => {
                return (Attempt::InWorld, c)
            }
            Received::Msg(ServerMsg::Session(ServerSession::Characters { characters, .. })) => {
                match characters.iter().find(|ch| ch.name == character) {
                    Some(ch) => ClientSession::EnterWorld { character: ch.id },
                    None if !created => {
                        created = true;
                        ClientSession::CreateCharacter {
                            name: character.clone(),
                        }
                    }
                    None => panic!("{name}: not created"),
                }
            }
            r if r == too_many => return (Attempt::TooMany, c),
            Received::Msg(_) => continue,
            Received::Closed => panic!("{name}: closed without a reason"),
        };
        let mut b = Vec::new();
        encode_frame(&ClientMsg::Session(reply), MAX_CLIENT_PAYLOAD, &mut b).unwrap();
        let _ = c.try_send_raw(&b).await;
    }
}

/// Players the server holds, connected or waiting for a resume, from a
/// refresh of the metrics after this call.
async fn players_held(metrics: &Metrics) -> f64 {
    // The core loop refreshes every 500 ms.
    tokio::time::sleep(Duration::from_millis(700)).await;
    sim::socket_tools::scrape::parse(&metrics.render())
        .iter()
        .filter(|s| s.name == "mmo_players")
        .map(|s| s.value)
        .sum()
}

/// Log in, enter the world, drop the connection, again and again: each
/// character stays for the resume grace, and those count against the
/// address's cap, so one address cannot fill the world with them.
#[tokio::test]
async fn characters_kept_for_resume_count_against_the_address_cap() {
    let metrics = Arc::new(Metrics::new());
    let cap = 4;
    let server = Server::start_with_metrics(
        ServerConfig {
            max_connections_per_address: cap,
            ..config()
        },
        Arc::clone(&metrics),
    )
    .await;
    let mut refused = 0;
    for i in 0..20 {
        let (attempt, c) = try_enter(&server, &format!("drop{i}")).await;
        if attempt == Attempt::TooMany {
            refused += 1;
        }
        // Dropped without a goodbye: the character is kept for a resume.
        drop(c);
        // Give the server time to see the drop, as an attacker's loop would.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let held = players_held(&metrics).await;
    assert!(
        held <= f64::from(cap),
        "{held} characters held for one address"
    );
    assert!(refused >= 20 - cap, "only {refused} refused");
    let (attempt, _c) = try_enter(&server, "one-more").await;
    assert_eq!(attempt, Attempt::TooMany);
    server.stop().await;
}

/// At the cap, a character kept for resume can still be taken back from the
/// same address (here by logging in again, which resumes it).
#[tokio::test]
async fn an_address_at_its_cap_can_still_take_its_characters_back() {
    let cap = 3;
    let server = start(ServerConfig {
        max_connections_per_address: cap,
        ..config()
    })
    .await;
    for i in 0..cap {
        let (attempt, c) = try_enter(&server, &format!("p{i}")).await;
        assert_eq!(attempt, Attempt::InWorld);
        drop(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (attempt, new) = try_enter(&server, "new").await;
    assert_eq!(attempt, Attempt::TooMany, "a new character past the cap");
    drop(new);
    // Refused with a typed reason and no welcome first.
    let mut refused = server.client().await;
    refused.send(&[hello(), login("newer")]).await;
    assert_eq!(
        refused.recv_skipping_pings().await,
        disconnect(DisconnectReason::TooManyConnections)
    );
    drop(refused);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut back = Vec::new();
    for i in 0..cap {
        let mut c = server.client().await;
        c.send(&[hello(), login(&format!("p{i}"))]).await;
        match c.recv_skipping_pings().await {
            Received::Msg(ServerMsg::Session(ServerSession::Welcome { resumed, .. })) => {
                assert!(resumed)
            }
            other => panic!("p{i} could not come back: {other:?}"),
        }
        back.push(c);
    }
    answers_in_time(&mut back[0], 1, Duration::from_millis(500)).await;
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_global_cap_are_refused_as_server_full() {
    let server = start(ServerConfig {
        max_connections: 2,
        ..config()
    })
    .await;
    let mut a = server.client().await;
    a.login("a").await;
    let mut b = server.client().await;
    b.login("b").await;
    for _ in 0..20 {
        let mut c = server.client().await;
        assert_eq!(c.recv().await, disconnect(DisconnectReason::ServerFull));
        assert_eq!(c.recv().await, Received::Closed);
    }
    answers_in_time(&mut a, 1, Duration::from_millis(500)).await;
    let report = server.stop().await;
    assert_eq!(report.refused.server_full, 20);
    assert_eq!(
        report.stats.connections_opened, 2,
        "the node never saw them"
    );
}

#[tokio::test]
async fn a_message_flood_is_rate_limited_then_disconnected() {
    let server = start(config()).await;
    let mut good = server.client().await;
    good.login("good").await;
    let mut flood = server.client().await;
    flood.login("flood").await;
    let pings: Vec<ClientMsg> = (0..1_000)
        .map(|seq| {
            ClientMsg::Session(ClientSession::Ping {
                seq,
                client_time_us: 0,
            })
        })
        .collect();
    flood.send(&pings).await;
    let mut pongs = 0;
    loop {
        match flood.recv().await {
            Received::Msg(ServerMsg::Session(ServerSession::Pong { .. })) => pongs += 1,
            Received::Msg(ServerMsg::Session(ServerSession::Disconnect { reason })) => {
                assert_eq!(reason, DisconnectReason::RateLimited);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(flood.recv().await, Received::Closed);
    // The burst (120) passed, less the two handshake messages, plus what the
    // bucket refilled (60/s) meanwhile; the rest was dropped.
    assert!((118..=140).contains(&pongs), "{pongs} pongs");
    answers_in_time(&mut good, 1, Duration::from_millis(500)).await;
    let report = server.stop().await;
    assert_eq!(report.stats.disconnects.get("rate_limited"), Some(&1));
    assert!(
        report.stats.rate_limited >= 120,
        "{}",
        report.stats.rate_limited
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_as_a_slow_reader() {
    let mut c = config();
    c.close_linger_ms = 10_000;
    c.node.session.rate_limit_per_second = 1_000_000;
    c.node.session.rate_limit_burst = 1_000_000;
    let server = start(c).await;
    let mut good = server.client().await;
    good.login("good").await;
    // A small receive window, so the kernel holds little for the reader.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    let mut bytes = Vec::new();
    for m in [hello(), login("deaf")] {
        encode_frame(&m, MAX_CLIENT_PAYLOAD, &mut bytes).unwrap();
    }
    let mut batch = Vec::new();
    for seq in 0..1_000 {
        let ping = ClientMsg::Session(ClientSession::Ping {
            seq,
            client_time_us: u64::MAX,
        });
        encode_frame(&ping, MAX_CLIENT_PAYLOAD, &mut batch).unwrap();
    }
    stream.write_all(&bytes).await.unwrap();
    // Every ping asks for a pong the client never reads: ~20 MB of pongs
    // against a 1 MiB bound.
    for _ in 0..1_000 {
        let write = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&batch));
        if !matches!(write.await, Ok(Ok(()))) {
            break;
        }
    }
    answers_in_time(&mut good, 1, Duration::from_millis(1000)).await;
    // Now read: whatever was in flight, then the reason, then the close.
    let mut deaf = RawClient::new(stream);
    let last = loop {
        match deaf.recv().await {
            Received::Msg(ServerMsg::Session(ServerSession::Disconnect { reason })) => {
                break reason
            }
            Received::Msg(_) => {}
            Received::Closed => panic!("closed without a reason"),
        }
    };
    assert_eq!(last, DisconnectReason::SlowReader);
    let report = server.stop().await;
    assert_eq!(report.stats.disconnects.get("slow_reader"), Some(&1));
}

#[tokio::test]
async fn unknown_tags_and_messages_out_of_order_are_violations() {
    let server = start(config()).await;
    let mut good = server.client().await;
    good.login("good").await;
    let moving = ClientMsg::World(ClientWorld::Move(MoveInput {
        seq: 1,
        epoch: 0,
        client_time_us: 0,
        pos: Vec2::default(),
        vel: Vec2::default(),
    }));
    let cases: Vec<(Vec<u8>, Violation)> = vec![
        // Tag 99 after a valid Hello; tag 200 as the very first message.
        (
            {
                let mut b = Vec::new();
                encode_frame(&hello(), MAX_CLIENT_PAYLOAD, &mut b).unwrap();
                b.extend_from_slice(&[1, 0, 0, 0, 99]);
                b
            },
            Violation::Malformed,
        ),
        (vec![2, 0, 0, 0, 0xc8, 0x01], Violation::Malformed),
        // Moving before login, entering the world before login.
        (
            {
                let mut b = Vec::new();
                encode_frame(&hello(), MAX_CLIENT_PAYLOAD, &mut b).unwrap();
                encode_frame(&moving, MAX_CLIENT_PAYLOAD, &mut b).unwrap();
                b
            },
            Violation::UnexpectedMessage,
        ),
        (
            {
                let mut b = Vec::new();
                encode_frame(&hello(), MAX_CLIENT_PAYLOAD, &mut b).unwrap();
                encode_frame(
                    &ClientMsg::Session(ClientSession::EnterWorld {
                        character: game_core::ids::CharacterId(1),
                    }),
                    MAX_CLIENT_PAYLOAD,
                    &mut b,
                )
                .unwrap();
                b
            },
            Violation::UnexpectedMessage,
        ),
        // A login before hello.
        (
            {
                let mut b = Vec::new();
                encode_frame(&login("early"), MAX_CLIENT_PAYLOAD, &mut b).unwrap();
                b
            },
            Violation::UnexpectedMessage,
        ),
    ];
    for (bytes, violation) in cases {
        let mut c = server.client().await;
        c.send_raw(&bytes).await;
        assert_eq!(
            c.recv().await,
            disconnect(DisconnectReason::ProtocolViolation(violation))
        );
        assert_eq!(c.recv().await, Received::Closed);
    }
    answers_in_time(&mut good, 1, Duration::from_millis(500)).await;
    server.stop().await;
}

/// Out-of-range coordinates and a huge sequence jump are corrected, never
/// applied: nobody else ever sees the cheater off the map.
#[tokio::test]
async fn absurd_coordinates_and_sequence_jumps_are_corrected_not_applied() {
    let server = start(config()).await;
    let mut watcher = server.client().await;
    watcher.login("watcher").await;
    watcher.enter("watcher").await;
    let mut cheat = server.client().await;
    cheat.login("cheat").await;
    let epoch = cheat.enter("cheat").await.epoch;
    let absurd = [
        (i32::MAX, i32::MAX, 1),
        (i32::MIN, i32::MIN, 2),
        (i32::MAX, i32::MIN, u32::MAX),
    ];
    let mut epoch = epoch;
    for (x, y, seq) in absurd {
        cheat
            .send(&[ClientMsg::World(ClientWorld::Move(MoveInput {
                seq,
                epoch,
                client_time_us: 0,
                pos: Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y)),
                vel: Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y)),
            }))])
            .await;
        let correction = loop {
            match cheat.recv_skipping_pings().await {
                Received::Msg(ServerMsg::World(ServerWorld::WorldUpdate(u))) => {
                    if let Some(c) = u.correction {
                        break c;
                    }
                }
                Received::Msg(_) => {}
                Received::Closed => panic!("closed"),
            }
        };
        assert_eq!(correction.seq, seq);
        assert!(correction.pos.x.raw().abs() < 1 << 20 && correction.pos.y.raw().abs() < 1 << 20);
        epoch = correction.epoch;
    }
    // The watcher only ever saw positions on the map.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while tokio::time::Instant::now() < deadline {
        let next = tokio::time::timeout_at(deadline, watcher.recv()).await;
        match next {
            Ok(Received::Msg(ServerMsg::World(ServerWorld::WorldUpdate(u)))) => {
                for s in u.spawns {
                    assert!(s.pos.x.abs() < 1 << 17 && s.pos.y.abs() < 1 << 17, "{s:?}");
                }
            }
            Ok(Received::Msg(_)) => {}
            Ok(Received::Closed) => panic!("watcher closed"),
            Err(_) => break,
        }
    }
    answers_in_time(&mut watcher, 1, Duration::from_millis(500)).await;
    let report = server.stop().await;
    assert!(
        report
            .stats
            .disconnects
            .keys()
            .all(|&k| k == "server_shutdown"),
        "{:?}",
        report.stats.disconnects
    );
}
