//! The admin port: `GET /metrics` (Prometheus text) and `GET /healthz`, over
//! hyper's HTTP/1 server. Off the game port and on loopback by default: it is
//! for the operator's scraper, not for players.
//!
//! Bounds: at most [`MAX_ADMIN_CONNECTIONS`] at once; a request's headers must
//! arrive within [`ADMIN_HEADER_TIMEOUT`], and a connection (its requests,
//! their bodies and the responses) is closed after [`ADMIN_CONNECTION_TIMEOUT`].
//! A new connection with every place taken closes the oldest one: sixteen
//! clients that send half a request and stall (slowloris) used to hold every
//! place for 10 s, and `/healthz` timed out, so a supervisor would restart a
//! healthy server. Now the health check always gets in, and a stalled request
//! is cut after the header deadline anyway.

use crate::metrics::Metrics;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use tracing::warn;

pub const MAX_ADMIN_CONNECTIONS: usize = 16;
pub const ADMIN_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// A request's headers (from the connection's start, or the end of the
/// previous response) arrive within this, or the connection is closed.
pub const ADMIN_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// `/healthz` fails when the core loop has not refreshed the metrics for this
/// long: the loop is stuck (or the server is shutting down).
pub const HEALTHY_WITHIN: Duration = Duration::from_secs(5);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves the admin port on `listener` until the task is dropped.
pub async fn serve_admin(listener: TcpListener, metrics: Arc<Metrics>) {
    // Oldest first.
    let mut open: VecDeque<AbortHandle> = VecDeque::with_capacity(MAX_ADMIN_CONNECTIONS);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                warn!(%error, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        open.retain(|connection| !connection.is_finished());
        if open.len() >= MAX_ADMIN_CONNECTIONS {
            // The oldest is the likeliest to be stalled (a scraper's request
            // is answered in a millisecond); it may reconnect.
            if let Some(oldest) = open.pop_front() {
                oldest.abort();
            }
        }
        let metrics = Arc::clone(&metrics);
        let task = tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let response = respond(&metrics, &req);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(ADMIN_HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(ADMIN_CONNECTION_TIMEOUT, connection).await;
        });
        open.push_back(task.abort_handle());
    }
}

fn respond(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Ok(value) = content_type.parse() {
            response.headers_mut().insert("content-type", value);
        }
        response
    };
    if req.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match req.uri().path() {
        "/metrics" => reply(StatusCode::OK, OPENMETRICS, metrics.render()),
        "/healthz" => {
            let age = metrics.since_refresh();
            if age <= HEALTHY_WITHIN {
                reply(StatusCode::OK, "text/plain", "ok\n".into())
            } else {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("core loop silent for {} ms\n", age.as_millis()),
                )
            }
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "try /metrics or /healthz\n".into(),
        ),
    }
}
