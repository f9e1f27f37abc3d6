//! The admin port under slow clients (slowloris): connections that send half
//! a request and stall cannot keep `/healthz` from answering, and are cut.

use net_adapter::admin::{ADMIN_HEADER_TIMEOUT, MAX_ADMIN_CONNECTIONS};
use net_adapter::{serve_admin, Metrics};
use sim::socket_tools::scrape;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn healthz(admin: SocketAddr, within: Duration) -> std::io::Result<(u16, String)> {
    tokio::task::spawn_blocking(move || scrape::http_get(admin, "/healthz", within))
        .await
        .unwrap()
}

/// Connects and sends the start of a request, never its end.
async fn half_request(admin: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(admin).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: admin\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_every_admin_connection_is_held_by_half_requests() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = listener.local_addr().unwrap();
    let admin_task = tokio::spawn(serve_admin(listener, Arc::new(Metrics::new()), None));

    let mut stalled = Vec::new();
    for _ in 0..MAX_ADMIN_CONNECTIONS + 4 {
        stalled.push(half_request(admin).await);
    }
    // Let the admin port take them all in.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let asked = Instant::now();
    let answer = healthz(admin, Duration::from_secs(1)).await;
    let took = asked.elapsed();
    assert!(
        matches!(answer, Ok((200, _))),
        "/healthz behind {} stalled requests: {answer:?} after {took:?}",
        stalled.len()
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");

    // Every stalled connection is closed by the header deadline (or was
    // closed to make room): none holds a place for long.
    let cut_by = ADMIN_HEADER_TIMEOUT + Duration::from_secs(2);
    for (i, mut s) in stalled.into_iter().enumerate() {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(cut_by, s.read(&mut buf)).await;
        let closed = match read {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            // hyper may answer a timed-out request (408) before closing.
            Ok(Ok(_)) => tokio::time::timeout(cut_by, s.read_to_end(&mut Vec::new()))
                .await
                .is_ok(),
            Err(_) => false,
        };
        assert!(closed, "stalled connection {i} still open after {cut_by:?}");
    }
    admin_task.abort();
}
