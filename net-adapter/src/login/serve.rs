//! The accept loop: HTTP/1 connections, each bounded in number and in time.

use super::http::router;
use super::LoginState;
use crate::transport::Listener;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower_service::Service;
use tracing::{debug, info, warn};

/// The client's address, put in each request's extensions by [`serve`]; the
/// per-address limiter keys on it. (Behind a proxy every client would share
/// the proxy's address: the service expects to face clients directly.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The largest request head hyper buffers (its minimum allowed).
const MAX_HEAD_BYTES: usize = 8192;

/// Serves the login API on `listener` (tokio's TCP, or turmoil's under the
/// `turmoil` feature) until `shutdown` completes; then stops
/// accepting, lets requests in flight finish for up to `request_timeout`, and
/// returns.
///
/// Each connection: at most `max_connections` at once (past that, clients wait
/// in the listen backlog); its request heads within `header_timeout`, each
/// request within `request_timeout` (the router's). `connection_timeout`
/// after it opened, a connection is closed once its request in flight is
/// answered (so at most `connection_timeout + request_timeout` in all): a
/// client trickling bytes or idling in keep-alive holds a place for a
/// bounded time.
pub async fn serve<L: Listener>(
    listener: L,
    state: LoginState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let config = state.config().clone();
    let app = router(state);
    let places = Arc::new(Semaphore::new(config.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, "login service listening");
    }
    tokio::pin!(shutdown);
    loop {
        // Forget finished connections, so the set holds open ones only.
        while connections.try_join_next().is_some() {}
        let place = tokio::select! {
            () = &mut shutdown => break,
            place = places.clone().acquire_owned() => place.expect("never closed"),
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a connection reset before
                    // accept: wait a little rather than spin.
                    warn!("login: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(PeerAddr(peer));
            app.clone().call(request)
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout())
            .max_buf_size(MAX_HEAD_BYTES)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let (lifetime, grace) = (config.connection_timeout(), config.request_timeout());
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => Some(ended),
                () = tokio::time::sleep(lifetime) => None,
                _ = stopping.wait_for(|stop| *stop) => None,
            };
            let ended = match ended {
                Some(ended) => ended,
                None => {
                    // Answer what is in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    match tokio::time::timeout(grace, connection).await {
                        Ok(ended) => ended,
                        Err(_) => {
                            debug!(%peer, "login connection cut: its request outlived the grace");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = ended {
                debug!(%peer, "login connection: {e}");
            }
            drop(place);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(config.request_timeout() + Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        warn!("login: connections still open at shutdown were cut");
    }
    Ok(())
}
