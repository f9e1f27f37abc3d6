//! The login service's accounts and sessions over a real socket (the
//! listener and the raw HTTP/1.1 client are in `login_support`).

mod login_support;

use game_core::auth::{format_unix_time, LimiterConfig, PasswordParams, SigningKey};
use game_core::persist::MemoryStore;
use login_support::*;
use net_adapter::login::{load_or_create_keys, load_verifying_key, AccountStore, LoginConfig};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_account_logs_in_and_its_token_verifies_with_the_key_file() {
    let dir = scratch("happy");
    let (key_path, pub_path) = config().key_paths(&dir);
    let key = load_or_create_keys(&key_path, &pub_path).unwrap();
    let service = Running::start(config(), key).await;

    let reply = service.register("Ada", PASSWORD).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["name"], "Ada");
    let account = body["account"].as_u64().unwrap();

    // Any case of the name logs in.
    let before = now_unix();
    let reply = service.login("ADA", PASSWORD).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["account"].as_u64(), Some(account));
    let token = body["token"].as_str().unwrap();
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    // A game server holding only the .pub file accepts it.
    let public = load_verifying_key(&pub_path).unwrap();
    assert_eq!(public, service.state.verifying_key());
    let claims = public.verify(token, now_unix()).unwrap();
    assert_eq!(claims.account.0, account);
    assert_eq!(claims.name, "Ada");
    assert!(claims.expires_at >= before + 300 && claims.expires_at <= now_unix() + 300);
    assert_eq!(body["expires_at"], format_unix_time(claims.expires_at));
    // Each login is a new token.
    let again = service.login("Ada", PASSWORD).await.json();
    let second = public
        .verify(again["token"].as_str().unwrap(), now_unix())
        .unwrap();
    assert_ne!(second.token_id, claims.token_id);

    let counters = service.state.metrics().snapshot();
    assert_eq!((counters.registrations, counters.logins_ok), (1, 2));
    assert_eq!(counters.hashes, 3);
    service.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_their_reason_and_never_tell_which_names_exist() {
    let service = Running::start(config(), SigningKey::from_seed(&[3; 32])).await;
    assert_eq!(service.register("Ada", PASSWORD).await.status, 201);

    let reply = service.register("aDA", "another fine password").await;
    assert_eq!((reply.status, reply.error()), (409, "name taken".into()));

    let reply = service.register("Bob", "short").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error(), "password must be at least 10 characters");
    let reply = service.register("Bob", "my bob password").await;
    assert_eq!(reply.status, 400);
    assert!(reply.error().contains("must not contain the account name"));
    let reply = service.register("1bob", PASSWORD).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "name must start with a letter".into())
    );

    // Wrong password and unknown name: the same answer, and the same work
    // (one Argon2 run each).
    let hashes = service.state.metrics().snapshot().hashes;
    let wrong = service.login("Ada", "not the password").await;
    let unknown = service.login("Nobody", PASSWORD).await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.error(), "bad credentials");
    assert_eq!(service.state.metrics().snapshot().hashes, hashes + 2);
    assert_eq!(service.state.metrics().snapshot().bad_credentials, 2);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_sql_metacharacters_are_refused_before_any_store_sees_them() {
    let service = Running::start(config(), SigningKey::from_seed(&[3; 32])).await;
    for name in [
        "ada'; DROP TABLE accounts;--",
        "ada\" OR \"1\"=\"1",
        "ada' OR 1=1 --",
        "ada%",
        "ada_%'",
        "robert); --",
        "ada\0",
        "ada\\",
    ] {
        for path in ["/v1/accounts", "/v1/sessions"] {
            let reply = service
                .post(path, json!({ "name": name, "password": PASSWORD }))
                .await;
            assert_eq!(reply.status, 400, "{name:?} on {path}: {reply:?}");
            assert!(reply.error().starts_with("name "), "{reply:?}");
        }
    }
    assert_eq!(service.state.metrics().snapshot().hashes, 0);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_client_is_told_to_upgrade_with_the_minimum_build() {
    let config = LoginConfig {
        min_client_version: 42,
        ..config()
    };
    let service = Running::start(config, SigningKey::from_seed(&[3; 32])).await;
    for path in ["/v1/accounts", "/v1/sessions"] {
        for version in [json!(null), json!(41)] {
            let mut body = json!({ "name": "Ada", "password": PASSWORD });
            if !version.is_null() {
                body["client_version"] = version;
            }
            let reply = service.post(path, body).await;
            assert_eq!(reply.status, 426, "{reply:?}");
            assert_eq!(
                reply.json(),
                json!({ "error": "client too old", "min_client_version": 42 })
            );
        }
    }
    let ok = json!({ "name": "Ada", "password": PASSWORD, "client_version": 42 });
    assert_eq!(service.post("/v1/accounts", ok.clone()).await.status, 201);
    assert_eq!(service.post("/v1/sessions", ok).await.status, 200);
    assert_eq!(service.state.metrics().snapshot().too_old, 4);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_from_axum_too() {
    let service = Running::start(config(), SigningKey::from_seed(&[3; 32])).await;
    let addr = service.addr;

    let reply = post_raw(addr, "/v1/sessions", "application/json", b"{\"name\": ").await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(reply.error().contains("JSON"));
    let reply = post_raw(
        addr,
        "/v1/sessions",
        "application/json",
        b"\xff\xfe garbage",
    )
    .await;
    assert_eq!(reply.status, 400);
    reply.error();
    let reply = post_raw(addr, "/v1/sessions", "application/json", b"").await;
    assert_eq!(reply.status, 400);
    reply.error();
    let reply = post_raw(
        addr,
        "/v1/sessions",
        "application/json",
        b"{\"name\":\"Ada\"}",
    )
    .await;
    assert_eq!(reply.status, 422);
    assert!(reply.error().contains("password"));
    let reply = post_raw(addr, "/v1/accounts", "application/json", b"[1,2,3]").await;
    assert_eq!(reply.status, 422);
    reply.error();

    let body = json!({ "name": "Ada", "password": PASSWORD }).to_string();
    let reply = post_raw(addr, "/v1/accounts", "text/plain", body.as_bytes()).await;
    assert_eq!(reply.status, 415);
    assert!(reply.error().contains("application/json"));

    let huge = vec![b'a'; 1024 * 1024];
    let reply = post_raw(addr, "/v1/accounts", "application/json", &huge).await;
    assert_eq!(reply.status, 413, "{reply:?}");
    assert_eq!(reply.error(), "body too large (at most 4096 bytes)");
    // Also when the body is sent chunked, with no length announced.
    let head = b"POST /v1/sessions HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    let mut body = Vec::new();
    for _ in 0..64 {
        body.extend_from_slice(b"400\r\n");
        body.extend_from_slice(&[b' '; 0x400]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let reply = exchange(addr, head, body).await;
    assert_eq!(reply.status, 413, "{reply:?}");
    reply.error();

    let reply = post_raw(addr, "/v2/sessions", "application/json", body_of_ada()).await;
    assert_eq!((reply.status, reply.error()), (404, "no such route".into()));
    let get = b"GET /v1/sessions HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\r\n";
    let reply = exchange(addr, get.to_vec(), vec![]).await;
    assert_eq!(
        (reply.status, reply.error()),
        (405, "method not allowed".into())
    );
    let get = b"GET / HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\r\n";
    let reply = exchange(addr, get.to_vec(), vec![]).await;
    assert_eq!(reply.status, 404);
    reply.error();

    assert!(service.state.metrics().snapshot().invalid >= 10);
    assert_eq!(service.state.metrics().snapshot().hashes, 0);
    service.stop().await;
}

fn body_of_ada() -> &'static [u8] {
    b"{\"name\":\"Ada\",\"password\":\"correct horse battery\"}"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_at_the_request_timeout() {
    let service = Running::start(config(), SigningKey::from_seed(&[3; 32])).await;
    let stream = TcpStream::connect(service.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let start = Instant::now();
    writer
        .write_all(
            b"POST /v1/sessions HTTP/1.1\r\nHost: login\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    // One byte every 100 ms, for at most 5 s (the slow-loris pattern).
    let trickle = tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(b" ").await.is_err() {
                return true;
            }
        }
        false
    });
    let bytes = read_all(&mut reader, Duration::from_secs(5)).await;
    let elapsed = start.elapsed();
    let reply = parse(&bytes);
    assert_eq!(
        (reply.status, reply.error()),
        (408, "request timeout".into())
    );
    // Cut at the 1 s request timeout, and the connection closed with it.
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(2_500),
        "{elapsed:?}"
    );
    assert!(
        trickle.await.unwrap(),
        "the server kept reading the trickle"
    );
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_headers_are_cut_at_the_header_timeout() {
    let service = Running::start(config(), SigningKey::from_seed(&[3; 32])).await;
    let mut stream = TcpStream::connect(service.addr).await.unwrap();
    let start = Instant::now();
    stream
        .write_all(b"POST /v1/sessions HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        // A close may show only on the read side.
        let mut rest = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut rest)).await;
        closed = read.is_ok();
    }
    assert!(closed, "the connection outlived its header timeout");
    // Cut at the 1 s header timeout, not at the 5 s connection limit.
    assert!(
        start.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        start.elapsed()
    );
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_is_closed_at_its_time_limit_after_its_answer() {
    let config = LoginConfig {
        header_timeout_ms: 10_000,
        request_timeout_ms: 3_000,
        connection_timeout_ms: 1_000,
        // A hash of a hundred ms or more in a debug build: often in flight at the limit.
        password_params: PasswordParams {
            memory_kib: 4 * 1024,
            iterations: 2,
        },
        ..config()
    };
    let service = Running::start(config, SigningKey::from_seed(&[3; 32])).await;
    let mut stream = TcpStream::connect(service.addr).await.unwrap();
    let start = Instant::now();
    let request = |name: &str| {
        let body = json!({ "name": name, "password": PASSWORD }).to_string();
        format!(
            "POST /v1/sessions HTTP/1.1\r\nHost: login\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // Keep-alive: logins one after another on one connection, until the
    // limit; the one in flight then is answered, and the connection closes.
    let mut answered = 0;
    let mut bytes = Vec::new();
    while start.elapsed() < Duration::from_millis(4_000) {
        if stream.write_all(request("Ada").as_bytes()).await.is_err() {
            break;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        answered += 1;
    }
    let elapsed = start.elapsed();
    assert!(answered >= 1, "{answered} answers");
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(text.matches("HTTP/1.1 401").count(), answered, "{text}");
    // The last answer says the connection closes; none before it does.
    assert_eq!(text.matches("connection: close").count(), 1, "{text}");
    let last = text.rfind("HTTP/1.1 401").unwrap();
    assert!(text[last..].contains("connection: close"), "{text}");
    assert!(
        elapsed >= Duration::from_millis(1_000) && elapsed < Duration::from_millis(3_500),
        "{elapsed:?}"
    );
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_guessing_flood_is_limited_and_the_right_password_waits_its_turn() {
    let config = LoginConfig {
        // Three guesses at once, then one each 500 ms.
        per_account: LimiterConfig {
            burst: 3,
            per_minute: 120,
            max_keys: 100,
        },
        ..config()
    };
    let service = Running::start(config, SigningKey::from_seed(&[3; 32])).await;
    assert_eq!(service.register("Ada", PASSWORD).await.status, 201);
    let mut statuses = Vec::new();
    for i in 0..50 {
        let reply = service.login("Ada", &format!("guess number {i}")).await;
        if reply.status == 429 {
            assert_eq!(reply.header("retry-after"), Some("1"));
            assert_eq!(reply.error(), "too many attempts");
        }
        statuses.push(reply.status);
    }
    assert_eq!(&statuses[..3], &[401, 401, 401]);
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert!(limited >= 45, "{statuses:?}");
    // The right password right after the flood: still limited (any case of the name).
    let reply = service.login("ada", PASSWORD).await;
    assert_eq!(reply.status, 429);
    // Once the bucket has refilled one attempt, it gets in.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reply = service.login("Ada", PASSWORD).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let counters = service.state.metrics().snapshot();
    assert!(counters.rate_limited >= 46);
    // Refused attempts cost no hash: 1 registration + 3 guesses (+ a few
    // refilled during the flood) + the login.
    assert!(counters.hashes < 10, "{counters:?}");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_trying_many_names_is_limited_too() {
    let config = LoginConfig {
        per_address: LimiterConfig {
            burst: 5,
            per_minute: 1,
            max_keys: 100,
        },
        ..config()
    };
    let service = Running::start(config, SigningKey::from_seed(&[3; 32])).await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(service.login(&format!("user{i}"), PASSWORD).await.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    let reply = service.register("Newcomer", PASSWORD).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("60"));
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_hashing_slot_taken_a_request_is_refused_busy_not_queued() {
    let config = LoginConfig {
        // Slow enough that eight logins at once overlap.
        password_params: PasswordParams {
            memory_kib: 4 * 1024,
            iterations: 2,
        },
        max_hash_concurrency: 1,
        max_hash_queue: 1,
        request_timeout_ms: 10_000,
        ..config()
    };
    let service = Arc::new(Running::start(config, SigningKey::from_seed(&[3; 32])).await);
    let logins: Vec<_> = (0..8)
        .map(|i| {
            let service = service.clone();
            tokio::spawn(async move { service.login(&format!("user{i}"), PASSWORD).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for login in logins {
        let reply = login.await.unwrap();
        if reply.status == 503 {
            assert_eq!(reply.error(), "busy");
        }
        statuses.push(reply.status);
    }
    statuses.sort();
    assert!(
        statuses.contains(&401) && statuses.contains(&503),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    assert!(service.state.metrics().snapshot().busy >= 1);
    Arc::into_inner(service).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_survive_a_restart_and_old_tokens_still_verify() {
    let dir = scratch("restart");
    let (key_path, pub_path) = config().key_paths(&dir);
    // One store outlives both runs, as a database would.
    let store: Arc<dyn AccountStore> = Arc::new(Mutex::new(MemoryStore::default()));

    let first = Running::start_with(
        config(),
        store.clone(),
        load_or_create_keys(&key_path, &pub_path).unwrap(),
    )
    .await;
    assert_eq!(first.register("Ada", PASSWORD).await.status, 201);
    let token = first.login("Ada", PASSWORD).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let first_key = first.state.verifying_key();
    first.stop().await;

    let second = Running::start_with(
        config(),
        store,
        load_or_create_keys(&key_path, &pub_path).unwrap(),
    )
    .await;
    assert_eq!(second.state.verifying_key(), first_key);
    assert_eq!(load_verifying_key(&pub_path).unwrap(), first_key);
    second
        .state
        .verifying_key()
        .verify(&token, now_unix())
        .unwrap();
    assert_eq!(second.login("Ada", PASSWORD).await.status, 200);
    second.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_gives_503_not_a_wrong_answer() {
    let service =
        Running::start_with(config(), Arc::new(Down), SigningKey::from_seed(&[3; 32])).await;
    let reply = service.register("Ada", PASSWORD).await;
    assert_eq!(
        (reply.status, reply.error()),
        (503, "store unavailable".into())
    );
    // Not "bad credentials": the client should try again, not doubt its password.
    let reply = service.login("Ada", PASSWORD).await;
    assert_eq!(
        (reply.status, reply.error()),
        (503, "store unavailable".into())
    );
    assert_eq!(service.state.metrics().snapshot().store_unavailable, 2);
    service.stop().await;
}
