//! The admin port: `GET /metrics` (Prometheus text), `GET /healthz`, and
//! `POST /commands` (one operator command per request, see
//! [`OperatorCommand`]), over hyper's HTTP/1 server. Off the game port and on
//! loopback by default: it is for the operator and its scraper, not for
//! players.
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
use http_body_util::{BodyExt, Full, Limited};
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
use tokio::sync::{mpsc, oneshot};
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
/// <seconds>` (the character may not chat or whisper for that long),
/// `system <text>` (a line on the system channel to everyone online) or
/// `grant <name> <item kind|gold> <count>` (an economy transaction from the
/// operator's source).
/// `POST /commands` with the line as its body carries it to the core loop,
/// which runs it between two of its events and answers with what came of it:
///
/// ```text
/// curl -s localhost:9100/commands -d 'mute Ada 600'
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorCommand {
    Mute {
        name: String,
        seconds: u32,
    },
    System {
        text: String,
    },
    /// `grant <name> <item kind|gold> <count>`: from the operator's source.
    Grant {
        name: String,
        item: String,
        count: u64,
    },
}

/// A command on its way to the core loop, with where its answer goes.
#[derive(Debug)]
pub struct OperatorRequest {
    pub command: OperatorCommand,
    pub reply: oneshot::Sender<String>,
}

/// Commands waiting for the core loop; more are refused as busy.
pub const OPERATOR_QUEUE: usize = 16;
/// The longest command body read.
const MAX_COMMAND_BYTES: usize = 1024;
/// How long a command waits for the core loop's answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

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
            "grant" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let [name, item, count] = words[..] else {
                    return Err("usage: grant <name> <item kind|gold> <count>".into());
                };
                let count: u64 =
                    count.parse().ok().filter(|&c| c > 0).ok_or_else(|| {
                        format!("{count:?}: count must be a positive whole number")
                    })?;
                Ok(OperatorCommand::Grant {
                    name: name.into(),
                    item: item.into(),
                    count,
                })
            }
            other => Err(format!("{other:?}: commands are mute, system and grant")),
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
            OperatorCommand::Grant { name, item, count } => {
                match node.grant(now, name, item, *count) {
                    Ok(_) => format!("{count} {item} to {name}, once the store has it"),
                    Err(why) => why,
                }
            }
        }
    }
}

/// Serves the admin port on `listener` until the task is dropped. With no
/// `operator` channel, `POST /commands` answers 503.
pub async fn serve_admin(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    operator: Option<mpsc::Sender<OperatorRequest>>,
) {
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
        let operator = operator.clone();
        let task = tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let metrics = Arc::clone(&metrics);
                let operator = operator.clone();
                async move {
                    let response =
                        if req.method() == Method::POST && req.uri().path() == "/commands" {
                            command(operator.as_ref(), req).await
                        } else {
                            respond(&metrics, &req)
                        };
                    Ok::<_, Infallible>(response)
                }
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

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// `POST /commands`: parses the body as one [`OperatorCommand`], hands it to
/// the core loop and answers with what came of it (400 for a command that
/// does not parse, 503 when the loop is busy, gone or slow).
async fn command(
    operator: Option<&mpsc::Sender<OperatorRequest>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let text = |status, body: String| reply(status, "text/plain", body + "\n");
    let Some(operator) = operator else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "no command channel".into());
    };
    let body = match Limited::new(req.into_body(), MAX_COMMAND_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            let why = format!("a command is at most {MAX_COMMAND_BYTES} bytes");
            return text(StatusCode::PAYLOAD_TOO_LARGE, why);
        }
    };
    let Ok(line) = std::str::from_utf8(&body) else {
        return text(StatusCode::BAD_REQUEST, "a command is UTF-8 text".into());
    };
    let command: OperatorCommand = match line.parse() {
        Ok(c) => c,
        Err(why) => return text(StatusCode::BAD_REQUEST, why),
    };
    let (tx, rx) = oneshot::channel();
    let request = OperatorRequest { command, reply: tx };
    if operator.try_send(request).is_err() {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "commands queue full".into(),
        );
    }
    match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
        Ok(Ok(answer)) => text(StatusCode::OK, answer),
        _ => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the core loop did not answer".into(),
        ),
    }
}

fn respond(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET /metrics, GET /healthz, POST /commands\n".into(),
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
            "try GET /metrics, GET /healthz or POST /commands\n".into(),
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

    /// One HTTP/1.1 request on a fresh connection; the status and body.
    async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
        (status, body)
    }

    #[tokio::test]
    async fn a_command_posted_to_the_admin_port_runs_on_the_node_and_answers() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = mpsc::channel(OPERATOR_QUEUE);
        tokio::spawn(serve_admin(listener, Arc::new(Metrics::new()), Some(tx)));
        // The core loop's part: run each command on a node.
        tokio::spawn(async move {
            let mut node = Node::new(NodeConfig::default(), 1).unwrap();
            while let Some(request) = rx.recv().await {
                let answer = request.command.apply(&mut node, Instant::ZERO);
                let _ = request.reply.send(answer);
            }
        });
        let (status, body) = post(addr, "/commands", "mute nobody 60").await;
        assert_eq!(
            (status, body.as_str()),
            (200, "no character named nobody is online\n")
        );
        let (status, body) = post(addr, "/commands", "system doors open at dusk").await;
        assert_eq!((status, body.as_str()), (200, "sent to everyone online\n"));
        let (status, body) = post(addr, "/commands", "grant nobody gold 5").await;
        assert_eq!(
            (status, body.as_str()),
            (200, "no character named nobody is online\n")
        );
        let (status, body) = post(addr, "/commands", "mute Ada forever").await;
        assert_eq!(status, 400, "{body}");
        let (status, _) = post(addr, "/commands", &"x".repeat(2_000)).await;
        assert_eq!(status, 413);
    }

    #[tokio::test]
    async fn without_a_command_channel_commands_are_unavailable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve_admin(listener, Arc::new(Metrics::new()), None));
        let (status, _) = post(addr, "/commands", "system hello").await;
        assert_eq!(status, 503);
    }
}
