//! A raw protocol client for tests: it speaks frames by hand, so tests can send
//! exactly the bytes a misbehaving client would.

#![allow(dead_code)]

use game_core::protocol::DisconnectReason;
use game_core::protocol::{
    encode_frame, CharacterSummary, ClientMsg, ClientSession, Credentials, FrameDecoder, ServerMsg,
    ServerSession, ServerWorld, ZoneEntered, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD,
    PROTOCOL_VERSION,
};
use net_adapter::{serve_with_metrics, Metrics, ServerConfig, ServerReport};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The real server (`serve` over tokio TCP) on a free loopback port.
pub struct Server {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<ServerReport>>,
}

impl Server {
    pub async fn start(config: ServerConfig) -> Server {
        Self::start_with_metrics(config, Arc::new(Metrics::new())).await
    }

    /// [`Server::start`], keeping `metrics` up to date.
    pub async fn start_with_metrics(config: ServerConfig, metrics: Arc<Metrics>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_with_metrics(listener, config, 1, shutdown, metrics));
        Server { addr, stop, task }
    }

    pub async fn client(&self) -> RawClient<TcpStream> {
        RawClient::new(TcpStream::connect(self.addr).await.unwrap())
    }

    /// Stops it (as Ctrl-C would) and returns its report.
    pub async fn stop(self) -> ServerReport {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap()
    }
}

pub fn disconnect(reason: DisconnectReason) -> Received {
    Received::Msg(ServerMsg::Session(ServerSession::Disconnect { reason }))
}

pub struct RawClient<S> {
    stream: S,
    decoder: FrameDecoder,
    pending: Vec<ServerMsg>,
    /// The character screen heard right after the last welcome.
    characters: Option<Vec<CharacterSummary>>,
}

/// What the next read brought.
#[derive(Debug, PartialEq)]
pub enum Received {
    Msg(ServerMsg),
    /// The server closed the connection.
    Closed,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawClient<S> {
    pub fn new(stream: S) -> Self {
        RawClient {
            stream,
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            pending: Vec::new(),
            characters: None,
        }
    }

    pub async fn send(&mut self, msgs: &[ClientMsg]) {
        let mut bytes = Vec::new();
        for m in msgs {
            encode_frame(m, MAX_CLIENT_PAYLOAD, &mut bytes).unwrap();
        }
        self.send_raw(&bytes).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Like [`RawClient::send_raw`], for a client that may already be cut off.
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// The next message, or `Closed`; panics after 10 s of silence.
    pub async fn recv(&mut self) -> Received {
        let mut buf = [0u8; 4096];
        loop {
            if !self.pending.is_empty() {
                return Received::Msg(self.pending.remove(0));
            }
            let read = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut buf))
                .await
                .expect("no answer from the server within 10 s");
            let n = match read {
                Ok(0) | Err(_) => return Received::Closed,
                Ok(n) => n,
            };
            let mut input = &buf[..n];
            while let Some(p) = self.decoder.decode(&mut input).unwrap() {
                self.pending.push(ServerMsg::decode(p).unwrap());
            }
        }
    }

    /// Skips heartbeats until a message that is not a server ping.
    pub async fn recv_skipping_pings(&mut self) -> Received {
        loop {
            match self.recv().await {
                Received::Msg(ServerMsg::Session(ServerSession::Ping { .. })) => continue,
                other => return other,
            }
        }
    }

    /// After a welcome: from the character screen, enters the world with the
    /// character `name` (created first if the account lacks it); returns the
    /// zone it entered.
    pub async fn enter(&mut self, name: &str) -> ZoneEntered {
        let mut created = false;
        loop {
            let next = match self.characters.take() {
                Some(characters) => Received::Msg(ServerMsg::Session(ServerSession::Characters {
                    characters,
                    max: 4,
                })),
                None => self.recv_skipping_pings().await,
            };
            match next {
                Received::Msg(ServerMsg::Session(ServerSession::Characters {
                    characters, ..
                })) => match characters.iter().find(|c| c.name == name) {
                    Some(c) => {
                        let character = c.id;
                        self.send(&[ClientMsg::Session(ClientSession::EnterWorld { character })])
                            .await
                    }
                    None => {
                        assert!(!created, "{name} was not created");
                        created = true;
                        let name = name.to_owned();
                        self.send(&[ClientMsg::Session(ClientSession::CreateCharacter { name })])
                            .await
                    }
                },
                Received::Msg(ServerMsg::World(ServerWorld::ZoneEntered(z))) => return z,
                Received::Msg(ServerMsg::Session(ServerSession::Disconnect { reason })) => {
                    panic!("{name}: disconnected on the character screen: {reason:?}")
                }
                Received::Closed => panic!("{name}: closed on the character screen"),
                Received::Msg(_) => {}
            }
        }
    }

    /// Logs in; returns the welcome, and keeps the character screen that
    /// follows a new login for [`RawClient::enter`].
    pub async fn login(&mut self, name: &str) -> ServerMsg {
        self.send(&[hello(), login(name)]).await;
        let welcome = match self.recv_skipping_pings().await {
            Received::Msg(m @ ServerMsg::Session(ServerSession::Welcome { .. })) => m,
            other => panic!("expected a welcome, got {other:?}"),
        };
        match self.recv_skipping_pings().await {
            Received::Msg(ServerMsg::Session(ServerSession::Characters { characters, .. })) => {
                self.characters = Some(characters)
            }
            Received::Msg(other) => self.pending.insert(0, other),
            Received::Closed => {}
        }
        welcome
    }
}

pub fn hello() -> ClientMsg {
    ClientMsg::Session(ClientSession::Hello {
        protocol_version: PROTOCOL_VERSION,
        client: "test".into(),
    })
}

pub fn login(name: &str) -> ClientMsg {
    ClientMsg::Session(ClientSession::Login {
        credentials: Credentials::Dev { name: name.into() },
    })
}
