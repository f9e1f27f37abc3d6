//! The routes, their handlers, and the rule that every error is JSON.

use super::hashing::Busy;
use super::metrics::Refusal;
use super::serve::PeerAddr;
use super::store::RegisterError;
use super::LoginState;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use game_core::auth::{
    format_unix_time, hash_password, name_key, validate_account_name, validate_password,
    verify_password, Claims, LimiterConfig,
};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The service's routes, with its bounds (body size, request time) and the
/// JSON error rule as layers. The per-address limiter reads the client's
/// address from a [`PeerAddr`] extension, which [`super::serve`] inserts; a
/// request without one (the router used on its own) counts as one address,
/// "unknown".
pub fn router(state: LoginState) -> Router {
    let limit = state.config().max_body_bytes;
    Router::new()
        .route("/v1/accounts", post(register))
        .route("/v1/sessions", post(login))
        .route(
            "/v1/leaderboards/{raid}/{level_group}",
            get(super::leaderboards::leaderboard),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        .layer(middleware::map_response(json_errors))
        .with_state(state)
}

/// What both account routes take.
#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
    /// The client's build number; absent counts as 0.
    #[serde(default)]
    client_version: Option<u32>,
}

/// An error answer: `{"error": ...}` and what goes with it.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    error: Cow<'static, str>,
    retry_after_s: Option<u64>,
    min_client_version: Option<u32>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, error: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            error: error.into(),
            retry_after_s: None,
            min_client_version: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error });
        if let Some(version) = self.min_client_version {
            body["min_client_version"] = version.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Refuses and counts.
pub(super) fn refuse(state: &LoginState, why: Refusal, error: ApiError) -> ApiError {
    state.inner.metrics.refused(why);
    error
}

fn body_problem(state: &LoginState, rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let error: Cow<'static, str> = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a body with Content-Type: application/json".into()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => format!(
            "body too large (at most {} bytes)",
            state.config().max_body_bytes
        )
        .into(),
        _ => rejection.body_text().into(),
    };
    refuse(state, Refusal::Invalid, ApiError::new(status, error))
}

/// The checks both routes make before any work: a readable body, a recent
/// enough client, an address with attempts left.
fn admit(
    state: &LoginState,
    peer: Option<Extension<PeerAddr>>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Credentials, ApiError> {
    let Json(body) = body.map_err(|r| body_problem(state, r))?;
    let min = state.config().min_client_version;
    if min > 0 && body.client_version.unwrap_or(0) < min {
        let mut error = ApiError::new(StatusCode::UPGRADE_REQUIRED, "client too old");
        error.min_client_version = Some(min);
        return Err(refuse(state, Refusal::TooOld, error));
    }
    let address = peer.map_or_else(
        || "unknown".to_owned(),
        |Extension(p)| address_key(p.0.ip()),
    );
    take_attempt(
        state,
        &state.inner.per_address,
        state.config().per_address,
        &address,
    )?;
    Ok(body)
}

fn take_attempt(
    state: &LoginState,
    limiter: &std::sync::Mutex<game_core::auth::AttemptLimiter>,
    config: LimiterConfig,
    key: &str,
) -> Result<(), ApiError> {
    let now_ms = state.inner.started.elapsed().as_millis() as u64;
    let allowed = limiter
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .try_acquire(key, now_ms);
    if allowed {
        return Ok(());
    }
    let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many attempts");
    // One attempt comes back every 60/per_minute seconds: at most that long.
    error.retry_after_s = Some(60u64.div_ceil(config.per_minute.max(1) as u64).max(1));
    Err(refuse(state, Refusal::RateLimited, error))
}

/// The limiter's key for an address: IPv4 whole, IPv6 by its /64 (one
/// subscriber's network, which a client can fill with addresses at will).
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn busy(state: &LoginState, _: Busy) -> ApiError {
    refuse(
        state,
        Refusal::Busy,
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy"),
    )
}

pub(super) fn store_unavailable(state: &LoginState) -> ApiError {
    refuse(
        state,
        Refusal::StoreUnavailable,
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
    )
}

fn random<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!("login: no randomness from the OS: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    Ok(bytes)
}

async fn register(
    State(state): State<LoginState>,
    peer: Option<Extension<PeerAddr>>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Credentials { name, password, .. } = admit(&state, peer, body)?;
    let invalid = |text: String| {
        refuse(
            &state,
            Refusal::Invalid,
            ApiError::new(StatusCode::BAD_REQUEST, text),
        )
    };
    validate_account_name(&name).map_err(|p| invalid(p.to_string()))?;
    validate_password(&name, &password).map_err(|p| invalid(p.to_string()))?;
    let salt = random::<16>()?;
    let params = state.config().password_params;
    let hash = state
        .inner
        .hashes
        .run(move |memory| hash_password(&password, &salt, params, memory))
        .await
        .map_err(|b| busy(&state, b))?
        .map_err(|e| {
            tracing::error!("login: hashing failed: {e}");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        })?;
    // In a task of its own: a request cut by its timeout (or a client gone)
    // must not cancel a store write half done. A cancelled SQLite
    // transaction left its pooled connection inside `BEGIN IMMEDIATE`, and
    // every later commit failed `database is locked` (seen once in the
    // login storm, with requests timing out).
    let store = state.inner.store.clone();
    let (task_name, task_hash) = (name.clone(), hash);
    let registered = tokio::spawn(async move { store.register(&task_name, &task_hash).await })
        .await
        .unwrap_or(Err(RegisterError::Unavailable));
    match registered {
        Ok(account) => {
            state.inner.metrics.registered();
            let body = json!({ "account": account.0, "name": name });
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Err(RegisterError::NameTaken) => Err(refuse(
            &state,
            Refusal::NameTaken,
            ApiError::new(StatusCode::CONFLICT, "name taken"),
        )),
        Err(RegisterError::Unavailable) => Err(store_unavailable(&state)),
    }
}

async fn login(
    State(state): State<LoginState>,
    peer: Option<Extension<PeerAddr>>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Credentials { name, password, .. } = admit(&state, peer, body)?;
    // A name no account can have: saying so tells nothing about who exists.
    validate_account_name(&name).map_err(|p| {
        refuse(
            &state,
            Refusal::Invalid,
            ApiError::new(StatusCode::BAD_REQUEST, p.to_string()),
        )
    })?;
    // Known or not, a name gets the same number of guesses.
    take_attempt(
        &state,
        &state.inner.per_account,
        state.config().per_account,
        &name_key(&name),
    )?;
    // A task of its own, as for `register`: never cancelled mid-query.
    let store = state.inner.store.clone();
    let task_name = name.clone();
    let account = tokio::spawn(async move { store.find_account(&task_name).await })
        .await
        .map_err(|_| store_unavailable(&state))?
        .map_err(|_| store_unavailable(&state))?;
    // An unknown name costs one Argon2 check too: the answer's time does not
    // tell whether the name exists.
    let hash = account.as_ref().map_or_else(
        || state.inner.dummy_hash.clone(),
        |a| a.password_hash.clone(),
    );
    let matches = state
        .inner
        .hashes
        .run(move |memory| verify_password(&password, &hash, memory))
        .await
        .map_err(|b| busy(&state, b))?;
    let account = match account {
        Some(account) if matches => account,
        _ => {
            return Err(refuse(
                &state,
                Refusal::BadCredentials,
                ApiError::new(StatusCode::UNAUTHORIZED, "bad credentials"),
            ))
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let claims = Claims {
        account: account.id,
        name: account.name,
        issued_at: now,
        expires_at: now + state.config().token_ttl_s,
        token_id: random::<16>()?,
    };
    let token = state.inner.signing.issue(&claims);
    state.inner.metrics.logged_in();
    let body = json!({
        "token": token,
        "expires_at": format_unix_time(claims.expires_at),
        "account": claims.account.0,
    });
    // A token is a credential: no cache along the way keeps it.
    let no_store = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
    Ok((StatusCode::OK, no_store, Json(body)).into_response())
}

async fn not_found(State(state): State<LoginState>) -> ApiError {
    refuse(
        &state,
        Refusal::Invalid,
        ApiError::new(StatusCode::NOT_FOUND, "no such route"),
    )
}

async fn method_not_allowed(State(state): State<LoginState>) -> ApiError {
    refuse(
        &state,
        Refusal::Invalid,
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    )
}

/// A request (reading its body included) gets `request_timeout`; a body still
/// trickling in then is cut, and the connection with it.
async fn request_timeout(
    State(state): State<LoginState>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(state.config().request_timeout(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = refuse(
                &state,
                Refusal::Invalid,
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "request timeout"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// The last line of the JSON rule: an error answer from anywhere below
/// (axum's own rejections included) that is not JSON becomes
/// `{"error": <its text, or the status's reason>}`.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
        });
    let body = serde_json::to_vec(&json!({ "error": text })).expect("a string serializes");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_keyed_whole_for_ipv4_and_by_network_for_ipv6() {
        assert_eq!(address_key("10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(address_key("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            address_key("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_ne!(
            address_key("2001:db8:1:2::1".parse().unwrap()),
            address_key("2001:db8:1:3::1".parse().unwrap())
        );
    }
}
