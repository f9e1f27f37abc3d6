//! The `mmo-server` binary under a low open-file limit (256, soft and hard, set
//! by `ulimit -n` in the shell that execs it), on loopback: every client gets
//! an answer (a session, or `ServerFull`) and `/healthz` keeps answering, so a
//! supervisor does not restart a healthy server.

#![cfg(unix)]

use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, Credentials, DisconnectReason, FrameDecoder, ServerMsg,
    ServerSession, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OPEN_FILE_LIMIT: u32 = 256;
const CLIENTS: usize = 400;
/// Each client's whole wait for its answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// The server process, killed when dropped, and the lines it logged.
struct ServerProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn start_server(game: SocketAddr, admin: SocketAddr) -> ServerProcess {
    let script = format!("ulimit -n {OPEN_FILE_LIMIT} && exec \"$0\" \"$@\"");
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mmo-server"))
        .args(["--listen", &game.to_string()])
        .args(["--admin-listen", &admin.to_string()])
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        // tracing logs to stdout.
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sh runs mmo-server");
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut child = child;
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            lines.lock().unwrap().push(line);
        }
    });
    ServerProcess { child, log }
}

/// `GET path` on the admin port: the status code, or `None` past `within`.
async fn get_status(admin: SocketAddr, path: &str, within: Duration) -> Option<u16> {
    let fetch = async {
        let mut s = TcpStream::connect(admin).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
        s.write_all(request.as_bytes()).await.ok()?;
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).await.ok()?;
        let text = String::from_utf8_lossy(&reply);
        text.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(within, fetch).await.ok().flatten()
}

#[derive(Debug, PartialEq)]
enum Answer {
    Welcome,
    ServerFull,
}

/// Connects, logs in, and waits for a welcome or a `ServerFull` refusal. A
/// welcomed client's socket is returned so it keeps its place.
async fn connect_and_login(game: SocketAddr, i: usize) -> Result<(Answer, TcpStream), String> {
    let mut stream = TcpStream::connect(game)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut bytes = Vec::new();
    let hello = ClientMsg::Session(ClientSession::Hello {
        protocol_version: PROTOCOL_VERSION,
        client: "fd-limit-test".into(),
    });
    let login = ClientMsg::Session(ClientSession::Login {
        credentials: Credentials::Dev {
            name: format!("p{i}"),
        },
    });
    for m in [hello, login] {
        encode_frame(&m, MAX_CLIENT_PAYLOAD, &mut bytes).unwrap();
    }
    // A refused client may be closed before its hello is read: that is fine,
    // its refusal is already on the way.
    let _ = stream.write_all(&bytes).await;
    let mut decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) => return Err("closed without an answer".into()),
            Ok(n) => n,
            Err(e) => return Err(format!("read: {e}")),
        };
        let mut input = &buf[..n];
        while let Some(payload) = decoder.decode(&mut input).map_err(|e| format!("{e:?}"))? {
            match ServerMsg::decode(payload).map_err(|e| format!("{e:?}"))? {
                ServerMsg::Session(ServerSession::Welcome { .. }) => {
                    return Ok((Answer::Welcome, stream))
                }
                ServerMsg::Session(ServerSession::Disconnect {
                    reason: DisconnectReason::ServerFull,
                }) => return Ok((Answer::ServerFull, stream)),
                ServerMsg::Session(ServerSession::Disconnect { reason }) => {
                    return Err(format!("told {reason:?}"))
                }
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_low_open_file_limit_every_client_gets_a_session_or_server_full() {
    let (game, admin) = (free_port(), free_port());
    let server = start_server(game, admin);
    let mut up = false;
    for _ in 0..200 {
        if get_status(admin, "/healthz", Duration::from_millis(500)).await == Some(200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "mmo-server did not come up");

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(async move {
                let answer = tokio::time::timeout(ANSWER_WITHIN, connect_and_login(game, i)).await;
                match answer {
                    Err(_) => Err(format!("no answer within {ANSWER_WITHIN:?}")),
                    Ok(Err(e)) => Err(e),
                    // A refused client goes away, as a real one would.
                    Ok(Ok((Answer::ServerFull, _))) => Ok((Answer::ServerFull, None)),
                    Ok(Ok((Answer::Welcome, stream))) => Ok((Answer::Welcome, Some(stream))),
                }
            })
        })
        .collect();
    // Meanwhile the health check answers, quickly.
    let mut health = Vec::new();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        health.push(get_status(admin, "/healthz", Duration::from_secs(1)).await);
    }

    let (mut welcomed, mut full, mut failed) = (0, 0, Vec::new());
    let mut held = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        match client.await.unwrap() {
            Ok((Answer::Welcome, stream)) => {
                welcomed += 1;
                held.push(stream);
            }
            Ok((Answer::ServerFull, _)) => full += 1,
            Err(e) => failed.push(format!("client {i}: {e}")),
        }
    }
    let log = server.log();
    let summary = format!(
        "{welcomed} welcomed, {full} told ServerFull, {} without an answer (first: {:?}); \
         /healthz during the rush: {health:?}; {} lines logged, first: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)],
        log.len(),
        &log[..log.len().min(3)],
    );
    eprintln!("{summary}");
    assert!(failed.is_empty(), "{summary}");
    assert!(health.iter().all(|h| *h == Some(200)), "{summary}");
    assert!(welcomed > 0 && full > 0, "{summary}");
    // The places held are below the limit, with room for what else the
    // process needs.
    assert!(welcomed < OPEN_FILE_LIMIT as usize, "{summary}");
    // Accept errors, if any, are summed, not logged one by one.
    assert!(log.len() <= 10, "{summary}");
}
