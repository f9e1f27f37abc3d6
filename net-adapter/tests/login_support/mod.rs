//! The login service over a real socket, shared by its test files: a
//! listener on 127.0.0.1:0 and a small HTTP/1.1 client written here, so a
//! test can send what no polite client would (bad JSON, a wrong content
//! type, 1 MiB, a trickling body).

// Each test file uses its own part of this module.
#![allow(dead_code)]

use game_core::auth::{LimiterConfig, PasswordParams, SigningKey};
use game_core::persist::MemoryStore;
use net_adapter::login::store::StoreFuture;
use net_adapter::login::{
    serve, AccountStore, LoginConfig, LoginState, RegisterError, Unavailable,
};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const GENEROUS: LimiterConfig = LimiterConfig {
    burst: 1000,
    per_minute: 60_000,
    max_keys: 1000,
};

pub fn config() -> LoginConfig {
    LoginConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        password_params: PasswordParams::TEST_ONLY,
        per_address: GENEROUS,
        per_account: GENEROUS,
        header_timeout_ms: 1_000,
        request_timeout_ms: 1_000,
        connection_timeout_ms: 5_000,
        ..LoginConfig::default()
    }
}

pub struct Running {
    pub addr: SocketAddr,
    pub state: LoginState,
    pub stop: oneshot::Sender<()>,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn start(config: LoginConfig, key: SigningKey) -> Running {
        let store: Arc<dyn AccountStore> = Arc::new(Mutex::new(MemoryStore::default()));
        Running::start_with(config, store, key).await
    }

    pub async fn start_with(
        config: LoginConfig,
        store: Arc<dyn AccountStore>,
        key: SigningKey,
    ) -> Running {
        let listener = TcpListener::bind(config.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = LoginState::new(config, store, key).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Running {
            addr,
            state,
            stop,
            task,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        post_raw(
            self.addr,
            path,
            "application/json",
            body.to_string().as_bytes(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let head = format!("GET {path} HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\r\n");
        exchange(self.addr, head.into_bytes(), Vec::new()).await
    }

    pub async fn register(&self, name: &str, password: &str) -> Reply {
        self.post(
            "/v1/accounts",
            json!({ "name": name, "password": password }),
        )
        .await
    }

    pub async fn login(&self, name: &str, password: &str) -> Reply {
        self.post(
            "/v1/sessions",
            json!({ "name": name, "password": password }),
        )
        .await
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; every answer, error or not, must be JSON.
    pub fn json(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}: {}",
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error text in {self:?}"))
            .to_owned()
    }
}

pub async fn post_raw(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Reply {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    exchange(addr, head.into_bytes(), body.to_vec()).await
}

/// Writes `head` and `body` while reading the answer to its end (a server may
/// answer before the body is all sent, and close).
pub async fn exchange(addr: SocketAddr, head: Vec<u8>, body: Vec<u8>) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&head).await;
        let _ = writer.write_all(&body).await;
        writer
    });
    let bytes = read_all(&mut reader, Duration::from_secs(10)).await;
    drop(writing.await);
    parse(&bytes)
}

/// Everything until the server closes (or resets, or `limit` passes).
pub async fn read_all(reader: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + limit;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, reader.read(&mut chunk)).await {
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    bytes
}

pub fn parse(bytes: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(bytes);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete answer: {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let mut body = rest.as_bytes().to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&after.as_bytes()[..size]);
            rest = &after[size + 2..];
        }
        body = out;
    } else if let Some((_, len)) = headers.iter().find(|(k, _)| k == "content-length") {
        body.truncate(len.parse().unwrap());
    }
    Reply {
        status,
        headers,
        body,
    }
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh folder under cargo's temporary directory for this test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("login-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A store whose database is down.
pub struct Down;

impl AccountStore for Down {
    fn register<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
    ) -> StoreFuture<'a, Result<game_core::ids::AccountId, RegisterError>> {
        Box::pin(async { Err(RegisterError::Unavailable) })
    }

    fn find_account<'a>(
        &'a self,
        _: &'a str,
    ) -> StoreFuture<'a, Result<Option<game_core::persist::AccountRecord>, Unavailable>> {
        Box::pin(async { Err(Unavailable) })
    }

    fn leaderboard<'a>(
        &'a self,
        _: &'a str,
        _: u8,
        _: game_core::persist::Board,
        _: u16,
        _: Option<game_core::ids::CharacterId>,
    ) -> StoreFuture<'a, Result<net_adapter::login::Standings, Unavailable>> {
        Box::pin(async { Err(Unavailable) })
    }
}
