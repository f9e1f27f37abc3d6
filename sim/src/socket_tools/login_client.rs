//! The login service's HTTP API from a player's side (docs/PROTOCOL.md, "The
//! login service (HTTP)"): register an account, log in for a game token. One
//! [`LoginClient`] keeps one HTTP/1 connection (hyper's client connection,
//! reopened when the service closes it) and makes one request at a time;
//! many run side by side for a storm. Waiting is part of the job: a 429 is
//! retried after its `Retry-After`, a 503 or 408 after a growing back-off,
//! and each is counted in the shared [`LoginStats`].
//!
//! Passwords are derived from the account name and a salt ([`password_for`]),
//! so a second run of `mmo-bots` logs into the accounts the first made.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// The longest a 503 makes a client wait before it tries again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// The first wait after a 503 (doubled each time, up to [`MAX_BACKOFF`]).
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// A 429 without a readable `Retry-After` waits this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where the service listens: `http://HOST:PORT` (a trailing `/` is fine).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginUrl {
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for LoginUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("http://").ok_or_else(|| {
            format!("{s}: expected http://HOST:PORT (the service speaks plain HTTP/1)")
        })?;
        let authority = rest.trim_end_matches('/');
        if authority.contains('/') {
            return Err(format!("{s}: no path, please: the API's paths are fixed"));
        }
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| format!("{s}: no port"))?;
        let port = port.parse().map_err(|_| format!("{s}: bad port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{s}: no host"));
        }
        Ok(LoginUrl {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for LoginUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "http://{}:{}", self.host, self.port)
        }
    }
}

/// Counts shared by every client of a run.
#[derive(Debug, Default)]
pub struct LoginStats {
    requests: AtomicU64,
    registered: AtomicU64,
    already_registered: AtomicU64,
    tokens: AtomicU64,
    bad_credentials: AtomicU64,
    rate_limited: AtomicU64,
    busy: AtomicU64,
    timed_out: AtomicU64,
    other_refusals: AtomicU64,
    transport_errors: AtomicU64,
    waited_us: AtomicU64,
}

/// [`LoginStats`] at one moment, as reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginCounts {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Accounts created (201).
    pub registered: u64,
    /// Registrations of a name that was already there (409): an earlier run's.
    pub already_registered: u64,
    /// Tokens issued (200 to `POST /v1/sessions`).
    pub tokens: u64,
    /// 401s (a first login of an account not yet registered gets one).
    pub bad_credentials: u64,
    /// 429s, each waited out for its `Retry-After`.
    pub rate_limited: u64,
    /// 503s (`busy` or `store unavailable`), each backed off from.
    pub busy: u64,
    /// 408s (the request waited past the service's request timeout, e.g.
    /// queued behind the Argon2 jobs), each backed off from and retried.
    #[serde(default)]
    pub timed_out: u64,
    /// Any other answer that was not a success.
    pub other_refusals: u64,
    /// Requests that got no answer (connection refused, reset, closed).
    pub transport_errors: u64,
    /// Time spent waiting after 429s and 503s, summed over clients.
    pub waited_s: f64,
}

impl LoginStats {
    pub fn counts(&self) -> LoginCounts {
        let n = |a: &AtomicU64| a.load(Relaxed);
        LoginCounts {
            requests: n(&self.requests),
            registered: n(&self.registered),
            already_registered: n(&self.already_registered),
            tokens: n(&self.tokens),
            bad_credentials: n(&self.bad_credentials),
            rate_limited: n(&self.rate_limited),
            busy: n(&self.busy),
            timed_out: n(&self.timed_out),
            other_refusals: n(&self.other_refusals),
            transport_errors: n(&self.transport_errors),
            waited_s: n(&self.waited_us) as f64 / 1e6,
        }
    }

    fn waited(&self, d: Duration) {
        self.waited_us
            .fetch_add(d.as_micros().min(u64::MAX as u128) as u64, Relaxed);
    }
}

/// A login token and what came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`, as the service wrote it.
    pub expires_at: String,
    pub account: u64,
}

/// Why no account or token came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginError {
    /// An answer that waiting does not change (400, 401, 409 after a 401, ...).
    Refused { status: u16, error: String },
    /// Still refused (429, 503) or unanswered when the client's patience ran out.
    GaveUp { last: String },
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Refused { status, error } => write!(f, "login service: {status} {error}"),
            LoginError::GaveUp { last } => write!(f, "login service: gave up ({last})"),
        }
    }
}

impl std::error::Error for LoginError {}

/// What a registration found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    /// 201: the account is new.
    Created,
    /// 409: the name was taken (by this tool's earlier run, if the password
    /// logs in).
    AlreadyThere,
}

/// The password of account `name` for a run salted with `salt`: the same
/// every run, 24 hex digits after `pw-`, never containing the name (the
/// service refuses such passwords).
pub fn password_for(name: &str, salt: &str) -> String {
    let key = game_core::auth::name_key(name);
    (0u64..)
        .map(|round| {
            let mut h = Fnv::default();
            for part in [salt.as_bytes(), &[0], key.as_bytes(), &round.to_le_bytes()] {
                h.write(part);
            }
            let a = h.0;
            h.write(b"second half");
            format!("pw-{a:016x}{:08x}", h.0 >> 32)
        })
        .find(|p| game_core::auth::validate_password(name, p).is_ok())
        .expect("some round's password is acceptable")
}

/// FNV-1a, 64 bits: stable across Rust releases, unlike the std hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// One client of the login service: one connection, one request at a time.
pub struct LoginClient {
    url: LoginUrl,
    conn: Option<SendRequest<Full<Bytes>>>,
    stats: Arc<LoginStats>,
    /// How long one call keeps retrying 429s, 503s and failed connects.
    patience: Duration,
}

impl fmt::Debug for LoginClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginClient")
            .field("url", &self.url)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

/// One answer: status, `Retry-After` in seconds, body.
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: serde_json::Value,
}

impl LoginClient {
    pub fn new(url: LoginUrl, stats: Arc<LoginStats>, patience: Duration) -> Self {
        LoginClient {
            url,
            conn: None,
            stats,
            patience,
        }
    }

    /// Closes the connection (a bot that has its token has no more to ask).
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// `POST /v1/accounts`: 201 and 409 are both fine.
    pub async fn register(&mut self, name: &str, password: &str) -> Result<Registered, LoginError> {
        let a = self.post("/v1/accounts", name, password).await?;
        match a.status {
            StatusCode::CREATED => {
                self.stats.registered.fetch_add(1, Relaxed);
                Ok(Registered::Created)
            }
            StatusCode::CONFLICT => {
                self.stats.already_registered.fetch_add(1, Relaxed);
                Ok(Registered::AlreadyThere)
            }
            _ => Err(self.refused(&a)),
        }
    }

    /// `POST /v1/sessions`: a token, or the refusal (401 included).
    pub async fn login(&mut self, name: &str, password: &str) -> Result<Token, LoginError> {
        let a = self.post("/v1/sessions", name, password).await?;
        if a.status != StatusCode::OK {
            if a.status == StatusCode::UNAUTHORIZED {
                self.stats.bad_credentials.fetch_add(1, Relaxed);
                return Err(LoginError::Refused {
                    status: 401,
                    error: error_text(&a.body),
                });
            }
            return Err(self.refused(&a));
        }
        let field = |k: &str| a.body.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        match (
            field("token"),
            field("expires_at"),
            a.body.get("account").and_then(|v| v.as_u64()),
        ) {
            (Some(token), Some(expires_at), Some(account)) => {
                self.stats.tokens.fetch_add(1, Relaxed);
                Ok(Token {
                    token,
                    expires_at,
                    account,
                })
            }
            _ => {
                self.stats.other_refusals.fetch_add(1, Relaxed);
                Err(LoginError::Refused {
                    status: 200,
                    error: format!(
                        "an answer without token, expires_at and account: {}",
                        a.body
                    ),
                })
            }
        }
    }

    /// A token for `name`, registering the account first if it is not there
    /// yet: logs in, and on a 401 registers and logs in again. An account
    /// that exists with another password (another salt) stays refused.
    /// A known account costs one Argon2 run on the server, a new one three
    /// (the 401 is checked against a dummy hash of the same cost).
    pub async fn sign_in(&mut self, name: &str, password: &str) -> Result<Token, LoginError> {
        match self.login(name, password).await {
            Err(LoginError::Refused { status: 401, .. }) => {
                self.register(name, password).await?;
                self.login(name, password).await
            }
            other => other,
        }
    }

    fn refused(&self, a: &Answer) -> LoginError {
        self.stats.other_refusals.fetch_add(1, Relaxed);
        LoginError::Refused {
            status: a.status.as_u16(),
            error: error_text(&a.body),
        }
    }

    /// Posts `{"name", "password"}` until the answer is none of 429, 503 or
    /// 408 nor missing, or the patience runs out.
    async fn post(&mut self, path: &str, name: &str, password: &str) -> Result<Answer, LoginError> {
        let body = serde_json::json!({ "name": name, "password": password }).to_string();
        let give_up = tokio::time::Instant::now() + self.patience;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let (wait, last) = match self.post_once(path, &body).await {
                Ok(a) if a.status == StatusCode::TOO_MANY_REQUESTS => {
                    self.stats.rate_limited.fetch_add(1, Relaxed);
                    let wait = a
                        .retry_after
                        .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs);
                    (wait, format!("429 {}", error_text(&a.body)))
                }
                Ok(a)
                    if a.status == StatusCode::SERVICE_UNAVAILABLE
                        || a.status == StatusCode::REQUEST_TIMEOUT =>
                {
                    let counter = if a.status == StatusCode::REQUEST_TIMEOUT {
                        &self.stats.timed_out
                    } else {
                        &self.stats.busy
                    };
                    counter.fetch_add(1, Relaxed);
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    (
                        wait,
                        format!("{} {}", a.status.as_u16(), error_text(&a.body)),
                    )
                }
                Ok(a) => return Ok(a),
                Err(e) => {
                    self.stats.transport_errors.fetch_add(1, Relaxed);
                    self.conn = None;
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    (wait, e)
                }
            };
            if tokio::time::Instant::now() + wait > give_up {
                return Err(LoginError::GaveUp { last });
            }
            self.stats.waited(wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// One request; a connection the service had closed is reopened once.
    async fn post_once(&mut self, path: &str, body: &str) -> Result<Answer, String> {
        for attempt in 0..2 {
            let reused = self.conn.as_ref().is_some_and(|c| !c.is_closed());
            if !reused {
                self.conn = Some(self.open().await?);
            }
            let conn = self.conn.as_mut().expect("opened above");
            if conn.ready().await.is_err() {
                self.conn = None;
                continue;
            }
            let request = Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(
                    hyper::header::HOST,
                    format!("{}:{}", self.url.host, self.url.port),
                )
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
                .map_err(|e| e.to_string())?;
            self.stats.requests.fetch_add(1, Relaxed);
            let response = match conn.send_request(request).await {
                Ok(r) => r,
                // The service closed a kept-alive connection as we sent: once
                // more on a new one (a repeated registration answers 409).
                Err(e) if reused && attempt == 0 => {
                    let _ = e;
                    self.conn = None;
                    continue;
                }
                Err(e) => {
                    self.conn = None;
                    return Err(e.to_string());
                }
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            return Ok(Answer {
                status,
                retry_after,
                body,
            });
        }
        Err("the connection closed twice".into())
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect((self.url.host.as_str(), self.url.port))
            .await
            .map_err(|e| format!("connect to {}: {e}", self.url))?;
        let _ = stream.set_nodelay(true);
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(send)
    }
}

fn error_text(body: &serde_json::Value) -> String {
    body.get("error")
        .and_then(|e| e.as_str())
        .map_or_else(|| body.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stable_acceptable_and_differ_by_name_and_salt() {
        let p = password_for("bot0", "s");
        assert_eq!(p, password_for("bot0", "s"));
        assert_eq!(p, password_for("BOT0", "s"), "account names ignore case");
        assert_ne!(p, password_for("bot1", "s"));
        assert_ne!(p, password_for("bot0", "t"));
        assert!(
            game_core::auth::validate_password("bot0", &p).is_ok(),
            "{p}"
        );
        // A name made of hex digits is kept out of its password.
        for name in ["abc", "a0a", "fade", "bee", "cafe"] {
            let p = password_for(name, "");
            assert!(!p.to_ascii_lowercase().contains(name), "{p}");
        }
    }

    /// A login service that answers each request with the next of `answers`
    /// (status line, extra headers, body), on kept-alive connections; it
    /// returns the paths it was asked for.
    async fn fake_service(
        answers: Vec<(&'static str, &'static str, &'static str)>,
    ) -> (LoginUrl, tokio::task::JoinHandle<Vec<String>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = tokio::spawn(async move {
            let mut paths = Vec::new();
            let mut answers = answers.into_iter();
            'connections: loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 1024];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => continue 'connections,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        let mut chunk = [0u8; 1024];
                        let n = stream.read(&mut chunk).await.unwrap();
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    buf.drain(..head_end + length);
                    paths.push(head.split_whitespace().nth(1).unwrap().to_owned());
                    let Some((status, headers, body)) = answers.next() else {
                        return paths;
                    };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\n{headers}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    stream.write_all(answer.as_bytes()).await.unwrap();
                    if answers.len() == 0 {
                        return paths;
                    }
                }
            }
        });
        let url = format!("http://127.0.0.1:{port}").parse().unwrap();
        (url, served)
    }

    #[tokio::test]
    async fn a_429_waits_its_retry_after_and_a_503_backs_off_then_both_are_counted() {
        let (url, served) = fake_service(vec![
            (
                "429 Too Many Requests",
                "retry-after: 0\r\n",
                r#"{"error":"too many attempts"}"#,
            ),
            ("503 Service Unavailable", "", r#"{"error":"busy"}"#),
            ("201 Created", "", r#"{"account":7,"name":"bot0"}"#),
            (
                "200 OK",
                "",
                r#"{"token":"v4.public.x","expires_at":"2026-12-06T05:28:48Z","account":7}"#,
            ),
        ])
        .await;
        let stats = Arc::new(LoginStats::default());
        let mut client = LoginClient::new(url, stats.clone(), Duration::from_secs(10));
        let pw = password_for("bot0", "s");
        assert_eq!(client.register("bot0", &pw).await, Ok(Registered::Created));
        let token = client.login("bot0", &pw).await.unwrap();
        assert_eq!((token.token.as_str(), token.account), ("v4.public.x", 7));
        let c = stats.counts();
        assert_eq!(
            (c.requests, c.rate_limited, c.busy, c.registered, c.tokens),
            (4, 1, 1, 1, 1)
        );
        assert_eq!(
            served.await.unwrap(),
            [
                "/v1/accounts",
                "/v1/accounts",
                "/v1/accounts",
                "/v1/sessions"
            ]
        );
    }

    #[tokio::test]
    async fn sign_in_registers_on_a_401_and_an_account_with_another_password_stays_refused() {
        let (url, served) = fake_service(vec![
            ("401 Unauthorized", "", r#"{"error":"bad credentials"}"#),
            ("409 Conflict", "", r#"{"error":"name taken"}"#),
            ("401 Unauthorized", "", r#"{"error":"bad credentials"}"#),
        ])
        .await;
        let stats = Arc::new(LoginStats::default());
        let mut client = LoginClient::new(url, stats.clone(), Duration::from_secs(10));
        let refused = client.sign_in("bot0", &password_for("bot0", "s")).await;
        assert!(
            matches!(refused, Err(LoginError::Refused { status: 401, .. })),
            "{refused:?}"
        );
        let c = stats.counts();
        assert_eq!(
            (c.bad_credentials, c.already_registered, c.tokens),
            (2, 1, 0)
        );
        assert_eq!(
            served.await.unwrap(),
            ["/v1/sessions", "/v1/accounts", "/v1/sessions"]
        );
    }

    #[tokio::test]
    async fn a_service_still_busy_when_patience_runs_out_is_given_up_on() {
        let (url, _served) = fake_service(vec![
            ("503 Service Unavailable", "", r#"{"error":"busy"}"#),
            ("503 Service Unavailable", "", r#"{"error":"busy"}"#),
            ("503 Service Unavailable", "", r#"{"error":"busy"}"#),
        ])
        .await;
        let stats = Arc::new(LoginStats::default());
        let mut client = LoginClient::new(url, stats.clone(), Duration::from_millis(120));
        let given_up = client.login("bot0", &password_for("bot0", "s")).await;
        assert!(
            matches!(given_up, Err(LoginError::GaveUp { .. })),
            "{given_up:?}"
        );
        assert!(stats.counts().busy >= 2);
    }

    #[test]
    fn login_urls_parse() {
        let u: LoginUrl = "http://127.0.0.1:7780".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", 7780));
        assert_eq!(u.to_string(), "http://127.0.0.1:7780");
        let u: LoginUrl = "http://[::1]:7780/".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 7780));
        assert_eq!(u.to_string(), "http://[::1]:7780");
        for bad in [
            "127.0.0.1:7780",
            "https://a:1",
            "http://a",
            "http://a:1/v1",
            "http://:1",
        ] {
            assert!(bad.parse::<LoginUrl>().is_err(), "{bad}");
        }
    }
}
