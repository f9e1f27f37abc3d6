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

/// An operator's command to the game, one line of text: `mute <name>
/// <seconds>` (the character may not chat or whisper for that long) or
/// `system <text>` (a line on the system channel to everyone online).
///
/// The admin port only reads (`GET`), so nothing carries these to the core
/// loop yet: [`OperatorCommand::apply`] is what the core loop runs once a
/// command channel reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorCommand {
    Mute { name: String, seconds: u32 },
    System { text: String },
}

/// The longest mute an operator may give: a week.
pub const MAX_MUTE_SECONDS: u32 = 7 * 24 * 3600;

impl std::str::FromStr for OperatorCommand {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let line = line.trim();
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match verb {
            "mute" => {
                let mut words = rest.split_whitespace();
                let (Some(name), Some(seconds), None) = (words.next(), words.next(), words.next())
                else {
                    return Err("usage: mute <name> <seconds>".into());
                };
                let seconds: u32 = seconds
                    .parse()
                    .map_err(|_| format!("{seconds:?}: seconds must be a whole number"))?;
                if seconds == 0 || seconds > MAX_MUTE_SECONDS {
                    return Err(format!("seconds must be 1..={MAX_MUTE_SECONDS}"));
                }
                Ok(OperatorCommand::Mute {
                    name: name.into(),
                    seconds,
                })
            }
            "system" => {
                game_core::social::check_text(rest, game_core::protocol::DEFAULT_MAX_CHAT_BYTES)
                    .map_err(|r| format!("usage: system <text> ({})", r.label()))?;
                Ok(OperatorCommand::System { text: rest.into() })
            }
            other => Err(format!("{other:?}: commands are mute and system")),
        }
    }
}

impl OperatorCommand {
    /// Carries the command out on `node` at `now`; says what came of it.
    pub fn apply(&self, node: &mut game_core::node::Node, now: game_core::time::Instant) -> String {
        match self {
            OperatorCommand::Mute { name, seconds } => {
                if node.mute(now, name, *seconds as u64 * 1_000) {
                    format!("{name} muted for {seconds} s")
                } else {
                    format!("no character named {name} is online")
                }
            }
            OperatorCommand::System { text } => {
                node.system_message(text);
                "sent to everyone online".into()
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::node::{Node, NodeConfig};
    use game_core::protocol::ChatChannel;
    use game_core::time::Instant;

    #[test]
    fn operator_commands_parse_or_say_why_not() {
        assert_eq!(
            "mute Ada 60".parse(),
            Ok(OperatorCommand::Mute {
                name: "Ada".into(),
                seconds: 60
            })
        );
        assert_eq!(
            "  system Restart in 5 minutes ".parse(),
            Ok(OperatorCommand::System {
                text: "Restart in 5 minutes".into()
            })
        );
        for (line, why) in [
            ("mute Ada", "usage"),
            ("mute Ada 60 more", "usage"),
            ("mute Ada soon", "whole number"),
            ("mute Ada 0", "1..="),
            ("mute Ada 999999999", "1..="),
            ("system", "invalid_text"),
            ("system evil\u{202E}txt", "invalid_text"),
            ("kick Ada", "commands are"),
        ] {
            let err = line.parse::<OperatorCommand>().unwrap_err();
            assert!(err.contains(why), "{line:?}: {err}");
        }
        let long = format!("system {}", "x".repeat(1_000));
        assert!(long
            .parse::<OperatorCommand>()
            .unwrap_err()
            .contains("too_long"));
    }

    #[test]
    fn operator_commands_reach_the_social_layer() {
        let mut node = Node::new(NodeConfig::default(), 1).unwrap();
        let now = Instant::ZERO;
        let mute: OperatorCommand = "mute Nobody 60".parse().unwrap();
        assert_eq!(
            mute.apply(&mut node, now),
            "no character named Nobody is online"
        );
        let system: OperatorCommand = "system hello all".parse().unwrap();
        assert_eq!(system.apply(&mut node, now), "sent to everyone online");
        let lines = node.social().stats().lines[ChatChannel::System as usize];
        assert_eq!(lines, 1);
    }
}
