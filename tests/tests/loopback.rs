//! The real server code (net-adapter's `serve` over tokio TCP) on loopback.

mod common;

use common::{disconnect, hello, Received, Server};
use game_core::client::ClientConfig;
use game_core::protocol::{
    ClientMsg, ClientSession, DisconnectReason, ServerMsg, ServerSession, Violation,
    PROTOCOL_VERSION,
};
use net_adapter::ServerConfig;
use sim::socket_tools::bot::{run_bot, OnDrop, SocketPolicy};
use std::time::Duration;
use tokio::net::TcpStream;

async fn start() -> Server {
    Server::start(ServerConfig {
        status_interval_s: 0,
        ..ServerConfig::default()
    })
    .await
}

#[tokio::test]
async fn connect_login_and_ping() {
    let server = start().await;
    let mut c = server.client().await;
    let ServerMsg::Session(ServerSession::Welcome {
        tick_hz, resumed, ..
    }) = c.login("ada").await
    else {
        unreachable!()
    };
    assert_eq!((tick_hz, resumed), (20, false));
    c.send(&[ClientMsg::Session(ClientSession::Ping {
        seq: 42,
        client_time_us: 7,
    })])
    .await;
    match c.recv_skipping_pings().await {
        Received::Msg(ServerMsg::Session(ServerSession::Pong {
            seq: 42,
            client_time_us: 7,
            ..
        })) => {}
        other => panic!("expected our pong, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn duplicate_login_kicks_the_first() {
    let server = start().await;
    let mut first = server.client().await;
    let ServerMsg::Session(ServerSession::Welcome { player, .. }) = first.login("ada").await else {
        unreachable!()
    };
    let mut second = server.client().await;
    let ServerMsg::Session(ServerSession::Welcome {
        player: again,
        resumed,
        ..
    }) = second.login("ada").await
    else {
        unreachable!()
    };
    assert_eq!((again, resumed), (player, true));
    assert_eq!(
        first.recv_skipping_pings().await,
        disconnect(DisconnectReason::LoggedInElsewhere)
    );
    assert_eq!(first.recv().await, Received::Closed);
    let report = server.stop().await;
    assert_eq!(
        report.stats.disconnects.get("logged_in_elsewhere"),
        Some(&1)
    );
}

#[tokio::test]
async fn garbage_closes_only_that_connection() {
    let server = start().await;
    let mut good = server.client().await;
    good.login("ada").await;
    let mut bad = server.client().await;
    bad.send(&[hello()]).await;
    bad.send_raw(&[6, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff])
        .await;
    assert_eq!(
        bad.recv().await,
        disconnect(DisconnectReason::ProtocolViolation(Violation::Malformed))
    );
    assert_eq!(bad.recv().await, Received::Closed);
    // The well-behaved client is untouched.
    good.send(&[ClientMsg::Session(ClientSession::Ping {
        seq: 1,
        client_time_us: 0,
    })])
    .await;
    assert!(matches!(
        good.recv_skipping_pings().await,
        Received::Msg(ServerMsg::Session(ServerSession::Pong { seq: 1, .. }))
    ));
    server.stop().await;
}

#[tokio::test]
async fn oversized_length_prefix_ends_the_connection() {
    let server = start().await;
    let mut c = server.client().await;
    c.send_raw(&[0xff, 0xff, 0xff, 0xff]).await;
    assert_eq!(
        c.recv().await,
        disconnect(DisconnectReason::ProtocolViolation(
            Violation::FrameTooLarge
        ))
    );
    assert_eq!(c.recv().await, Received::Closed);
    server.stop().await;
}

#[tokio::test]
async fn wrong_protocol_version_is_refused_with_a_reason() {
    let server = start().await;
    let mut c = server.client().await;
    c.send(&[ClientMsg::Session(ClientSession::Hello {
        protocol_version: PROTOCOL_VERSION + 1,
        client: "future".into(),
    })])
    .await;
    assert_eq!(
        c.recv().await,
        disconnect(DisconnectReason::VersionMismatch {
            server: PROTOCOL_VERSION,
            client: PROTOCOL_VERSION + 1
        })
    );
    assert_eq!(c.recv().await, Received::Closed);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_tells_clients_why() {
    let server = start().await;
    let mut c = server.client().await;
    c.login("ada").await;
    let report = tokio::spawn(server.stop());
    assert_eq!(
        c.recv_skipping_pings().await,
        disconnect(DisconnectReason::ServerShutdown)
    );
    assert_eq!(c.recv().await, Received::Closed);
    let report = report.await.unwrap();
    assert!(!report.unfinished_connections);
}

#[tokio::test]
async fn client_machine_bots_stay_connected() {
    let server = start().await;
    let addr = server.addr;
    let epoch = tokio::time::Instant::now();
    let until = epoch + Duration::from_secs(3);
    let bots: Vec<_> = (0..20)
        .map(|i| {
            tokio::spawn(run_bot(
                ClientConfig::new(format!("bot{i}")),
                move || TcpStream::connect(addr),
                epoch,
                until,
                OnDrop::GiveUp,
                SocketPolicy::idle(),
            ))
        })
        .collect();
    for bot in bots {
        let outcome = bot.await.unwrap();
        assert_eq!(outcome.welcomes, 1, "{outcome:?}");
        assert!(outcome.disconnects.is_empty(), "{outcome:?}");
        assert!(outcome.connected_at_end);
        assert!(!outcome.rtt_samples_us.is_empty());
    }
    let report = server.stop().await;
    assert_eq!(report.stats.logins, 20);
}
