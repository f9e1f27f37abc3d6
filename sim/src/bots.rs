//! A bot: the client machine from `game-core` driven over a real (or turmoil)
//! byte stream. `mmo-bots` runs thousands of these; the turmoil tests run them
//! inside a simulated network. The bot owns no game logic of its own.

use crate::behaviour::{Atlas, Wander};
use game_core::client::{Client, ClientConfig, ClientEvent, ClientState};
use game_core::ids::PlayerId;
use game_core::protocol::DisconnectReason;
use game_core::time::Instant;
use std::future::Future;
use std::io;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What one bot saw.
#[derive(Clone, Debug, Default)]
pub struct BotOutcome {
    pub name: String,
    /// Welcomes received: the first login plus every resume.
    pub welcomes: u32,
    pub resumes: u32,
    /// The player id of every welcome, in order (a resume gives the same id).
    pub players: Vec<PlayerId>,
    pub rtt_samples_us: Vec<u64>,
    /// Every disconnect except the bot's own goodbye at the end.
    pub disconnects: Vec<DisconnectReason>,
    /// Transport connects that failed, with the last error.
    pub connect_failures: u32,
    pub last_connect_error: Option<String>,
    /// Still connected and in the world when the run ended.
    pub connected_at_end: bool,
    /// Movement inputs the server rejected.
    pub corrections: u32,
    /// Zones entered (first entry, portals, channel switches, resumes).
    pub zones_entered: u32,
    /// World updates received.
    pub world_updates: u64,
}

/// What a bot does once in the world.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Walk around (at `move_every`), or stand still.
    pub wander: Option<(Wander, Arc<Atlas>)>,
    pub move_every: std::time::Duration,
}

impl Behaviour {
    pub fn idle() -> Self {
        Behaviour {
            wander: None,
            move_every: std::time::Duration::from_millis(100),
        }
    }

    pub fn wander(seed: u64, bot: u64, atlas: Arc<Atlas>) -> Self {
        Behaviour {
            wander: Some((Wander::new(seed, bot), atlas)),
            move_every: std::time::Duration::from_millis(100),
        }
    }
}

/// How a bot behaves when its connection drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDrop {
    /// Stop: the drop is reported.
    GiveUp,
    /// Open a new connection and resume the same player (after `retry_after`).
    Reconnect { retry_after: std::time::Duration },
}

/// Runs one bot until `until`, then says goodbye. `connect` opens a new transport
/// each time it is called; `epoch` is the zero of the bot's clock.
pub async fn run_bot<S, C, F>(
    config: ClientConfig,
    mut connect: C,
    epoch: tokio::time::Instant,
    until: tokio::time::Instant,
    on_drop: OnDrop,
    mut behaviour: Behaviour,
) -> BotOutcome
where
    S: AsyncRead + AsyncWrite,
    C: FnMut() -> F,
    F: Future<Output = io::Result<S>>,
{
    let now = || {
        let us = epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    };
    let mut outcome = BotOutcome {
        name: config.name.clone(),
        ..BotOutcome::default()
    };
    let mut client = Client::new(config);
    while tokio::time::Instant::now() < until {
        let stream = match connect().await {
            Ok(s) => s,
            Err(e) => {
                outcome.connect_failures += 1;
                outcome.last_connect_error = Some(e.to_string());
                match on_drop {
                    OnDrop::GiveUp => break,
                    OnDrop::Reconnect { retry_after } => {
                        tokio::time::sleep(retry_after).await;
                        continue;
                    }
                }
            }
        };
        client.connect(now());
        let finished = drive(
            &mut client,
            stream,
            &now,
            until,
            &mut outcome,
            &mut behaviour,
        )
        .await;
        outcome.world_updates = client.world_updates();
        if finished {
            return outcome;
        }
        match on_drop {
            OnDrop::GiveUp => break,
            OnDrop::Reconnect { retry_after } => tokio::time::sleep(retry_after).await,
        }
    }
    outcome
}

/// Drives one connection. Returns true when the run ended with the bot connected
/// (it said goodbye), false when the connection dropped first.
async fn drive<S: AsyncRead + AsyncWrite>(
    client: &mut Client,
    stream: S,
    now: &impl Fn() -> Instant,
    until: tokio::time::Instant,
    outcome: &mut BotOutcome,
    behaviour: &mut Behaviour,
) -> bool {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = vec![0u8; 16 * 1024];
    let mut next_move = tokio::time::Instant::now() + behaviour.move_every;
    loop {
        if let Some(bytes) = client.poll_transmit() {
            if wr.write_all(&bytes).await.is_err() {
                client.handle_connection_lost(now());
            }
        }
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::Welcomed { player, resumed } => {
                    outcome.welcomes += 1;
                    outcome.players.push(player);
                    outcome.resumes += u32::from(resumed);
                }
                ClientEvent::RttSample { rtt } => outcome.rtt_samples_us.push(rtt.as_micros()),
                ClientEvent::Disconnected { reason } => outcome.disconnects.push(reason),
                ClientEvent::Corrected { .. } => outcome.corrections += 1,
                ClientEvent::ZoneEntered { .. } => outcome.zones_entered += 1,
                ClientEvent::EnteredWorld
                | ClientEvent::Notice { .. }
                | ClientEvent::ChannelRefused { .. } => {}
            }
        }
        if matches!(client.state(), ClientState::Disconnected { .. }) {
            return false;
        }
        let deadline = client
            .poll_timeout()
            .map(|at| tokio_deadline(now(), at))
            .unwrap_or(until);
        tokio::select! {
            // Fixed order, so a turmoil replay is the same whatever is ready.
            biased;
            _ = tokio::time::sleep_until(until) => {
                outcome.connected_at_end = *client.state() == ClientState::InWorld;
                client.goodbye();
                if let Some(bytes) = client.poll_transmit() {
                    let _ = wr.write_all(&bytes).await;
                }
                let _ = wr.shutdown().await;
                // The goodbye's own Disconnected event is expected; drop it.
                while client.poll_event().is_some() {}
                return true;
            }
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => client.handle_connection_lost(now()),
                Ok(n) => client.handle_bytes(now(), &buf[..n]),
            },
            _ = tokio::time::sleep_until(deadline) => client.handle_timeout(now()),
            _ = tokio::time::sleep_until(next_move), if behaviour.wander.is_some() => {
                next_move += behaviour.move_every;
                step(client, behaviour, now());
            }
        }
    }
}

/// One movement step of a wandering bot.
fn step(client: &mut Client, behaviour: &mut Behaviour, now: Instant) {
    let Some((wander, atlas)) = behaviour.wander.as_mut() else {
        return;
    };
    let Some(avatar) = client.avatar() else {
        return;
    };
    let map = atlas.get(&avatar.map).map(|m| m.as_ref());
    let step = game_core::time::Duration::from_micros(behaviour.move_every.as_micros() as u64);
    let vel = wander.velocity(now, avatar.position(), map, avatar.max_speed(), step);
    client.move_with(now, vel);
}

fn tokio_deadline(now: Instant, at: Instant) -> tokio::time::Instant {
    tokio::time::Instant::now()
        + std::time::Duration::from_micros(at.saturating_since(now).as_micros())
}
