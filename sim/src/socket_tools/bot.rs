//! A bot: the client machine from `game-core` driven over a real (or turmoil)
//! byte stream. `mmo-bots` runs thousands of these; the turmoil tests run them
//! inside a simulated network. The bot owns no game logic of its own.

use crate::policy::{Act, Atlas, FightTally, Kind, Policy, SocialTally};
use game_core::client::{Client, ClientConfig, ClientEvent, ClientState};
use game_core::ids::PlayerId;
use game_core::protocol::{Credentials, DisconnectReason};
use game_core::time::Instant;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// After its goodbye, how long a bot waits for the server to close.
const GOODBYE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// How many of `disconnects` the bot got over: its next welcome resumed
    /// the same player (only a bot that reconnects can).
    pub recovered_disconnects: u32,
    /// Transport connects that failed, with the last error.
    pub connect_failures: u32,
    /// How many of `connect_failures` a later connect made good: the bot was
    /// welcomed after them.
    pub recovered_connect_failures: u32,
    pub last_connect_error: Option<String>,
    /// Still connected and in the world when the run ended.
    pub connected_at_end: bool,
    /// Movement inputs the server rejected.
    pub corrections: u32,
    /// ...of which while the fight held the character (dead, stunned,
    /// slowed): not counted above.
    pub held_corrections: u32,
    /// Zones entered (first entry, portals, channel switches, resumes).
    pub zones_entered: u32,
    /// Bytes read from the server, over every connection.
    pub bytes_in: u64,
    /// Entity entries (spawns, despawns, moves) in the world updates received.
    pub entity_updates: u64,
    /// Time spent connected and welcomed, over every connection.
    pub connected: std::time::Duration,
    /// World updates received.
    pub world_updates: u64,
    /// Fresh logins (not resumes) whose first character screen already
    /// listed the bot's character: it entered with it.
    pub characters_found: u32,
    /// Fresh logins whose first character screen lacked it: the client
    /// created it.
    pub characters_created: u32,
    /// The policy it followed (none: standing idle).
    pub kind: Option<Kind>,
    /// What a fighter or brawler did (kills, levels, refusals...).
    pub fight: Option<FightTally>,
    /// What a social bot did (lines, parties, refusals...).
    pub social: Option<SocialTally>,
}

/// The policy a bot on a socket follows once in the world: one of the
/// simulator's policies, stepped every `move_every`, with the maps it walks
/// by; or none (standing still). Only the kinds in [`SocketPolicy::KINDS`].
#[derive(Debug)]
pub struct SocketPolicy {
    policy: Option<Policy>,
    atlas: Arc<Atlas>,
}

impl SocketPolicy {
    pub fn idle() -> Self {
        SocketPolicy {
            policy: None,
            atlas: Arc::new(Atlas::empty()),
        }
    }

    /// Walks around, turning before walls, acting every 100 ms.
    pub fn wander(seed: u64, bot: u64, atlas: Arc<Atlas>) -> Self {
        SocketPolicy {
            policy: Some(Policy::seeded(Kind::Wander, seed, bot)),
            atlas,
        }
    }

    /// Bot `bot` following policy `kind`, acting every `every`. Only the kinds
    /// in [`SocketPolicy::KINDS`]: the others cut connections or misbehave,
    /// which a load test would count as failures.
    pub fn of(
        kind: Kind,
        seed: u64,
        bot: u64,
        atlas: Arc<Atlas>,
        every: std::time::Duration,
    ) -> Option<Self> {
        if !SocketPolicy::KINDS.contains(&kind) {
            return None;
        }
        let every = game_core::time::Duration::from_micros(every.as_micros() as u64);
        let policy =
            (kind != Kind::Idle).then(|| Policy::seeded(kind, seed, bot).acting_every(every));
        Some(SocketPolicy { policy, atlas })
    }

    /// The policies a bot on a socket can follow: those that ask the driver
    /// for nothing but movement (their requests go through the client); a
    /// raider's wish to drop its connection is not done here (it queues
    /// alone, too: parties are the simulator's).
    pub const KINDS: [Kind; 13] = [
        Kind::Wander,
        Kind::Hotspot,
        Kind::Idle,
        Kind::Follow,
        Kind::PortalWalker,
        Kind::ChannelHopper,
        Kind::Fighter,
        Kind::Brawler,
        Kind::Social,
        Kind::Heckler,
        Kind::Trader,
        Kind::Swindler,
        Kind::Raider,
    ];

    /// A trader asks the characters named here to trade (other kinds
    /// ignore them).
    pub fn with_trade_partners(mut self, names: Vec<String>) -> Self {
        if let Some(p) = self.policy.as_mut() {
            p.set_trade_partners(names);
        }
        self
    }

    fn every(&self) -> Option<std::time::Duration> {
        self.policy
            .as_ref()
            .map(|p| std::time::Duration::from_micros(p.every().as_micros()))
    }

    /// An event the client emitted, for the policies that fight.
    fn on_event(&mut self, client: &Client, now: Instant, e: &ClientEvent) {
        if let Some(policy) = self.policy.as_mut() {
            policy.on_event(now, client, e);
        }
    }

    fn kind(&self) -> Option<Kind> {
        self.policy.as_ref().map(|p| p.kind)
    }

    fn fight_tally(&self) -> Option<FightTally> {
        self.policy.as_ref().and_then(|p| p.fight_tally()).cloned()
    }

    fn social_tally(&self) -> Option<SocialTally> {
        self.policy.as_ref().and_then(|p| p.social_tally()).cloned()
    }

    /// One step of the policy at `now`, if there is one.
    fn step(&mut self, client: &mut Client, now: Instant) {
        if let Some(policy) = self.policy.as_mut() {
            // No friend to follow: a follower wanders. The kinds a bot on a
            // socket may follow never ask for more than movement (`KINDS`).
            let act = policy.step(now, client, &self.atlas, None);
            let raider_drop = policy.kind == Kind::Raider && act == Act::Drop;
            debug_assert!(
                act == Act::None || raider_drop,
                "{:?} asked for more than movement",
                policy.kind
            );
        }
    }
}

/// Counts shared by every bot of a run while it goes (for a progress line).
#[derive(Debug, Default)]
pub struct LiveCounts {
    /// Bots welcomed at least once.
    pub welcomed: AtomicU64,
    /// Bots connected right now.
    pub connected: AtomicU64,
    /// Connections that ended other than by the bot's goodbye.
    pub dropped: AtomicU64,
}

/// A bot's outcome as it is written, with the troubles the bot has not yet got
/// over. A disconnect is recovered when the bot's next welcome resumes the same
/// player; a welcome that starts afresh (the server no longer held the player)
/// leaves it unrecovered for good. A failed connect is recovered by any later
/// welcome. Whatever is still open when the run ends was not recovered.
#[derive(Debug, Default)]
struct Record {
    outcome: BotOutcome,
    open_disconnects: u32,
    open_connect_failures: u32,
}

impl Record {
    fn disconnected(&mut self, reason: DisconnectReason) {
        self.outcome.disconnects.push(reason);
        self.open_disconnects += 1;
    }

    fn connect_failed(&mut self, error: String) {
        self.outcome.connect_failures += 1;
        self.outcome.last_connect_error = Some(error);
        self.open_connect_failures += 1;
    }

    fn welcomed(&mut self, player: PlayerId, resumed: bool) {
        let o = &mut self.outcome;
        o.welcomes += 1;
        o.players.push(player);
        o.resumes += u32::from(resumed);
        if resumed {
            o.recovered_disconnects += self.open_disconnects;
        }
        o.recovered_connect_failures += self.open_connect_failures;
        self.open_disconnects = 0;
        self.open_connect_failures = 0;
    }
}

/// Where a bot gets the credentials of each login that is not a resume (a
/// fresh token from the login service: each logs in once). An error counts
/// as a failed connect.
pub type FreshCredentials =
    Box<dyn FnMut() -> Pin<Box<dyn Future<Output = Result<Credentials, String>> + Send>> + Send>;

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
    connect: C,
    epoch: tokio::time::Instant,
    until: tokio::time::Instant,
    on_drop: OnDrop,
    policy: SocketPolicy,
) -> BotOutcome
where
    S: AsyncRead + AsyncWrite,
    C: FnMut() -> F,
    F: Future<Output = io::Result<S>>,
{
    let live = LiveCounts::default();
    run_bot_counted(config, connect, epoch, until, on_drop, policy, &live).await
}

/// [`run_bot`], keeping `live` up to date as it goes.
pub async fn run_bot_counted<S, C, F>(
    config: ClientConfig,
    connect: C,
    epoch: tokio::time::Instant,
    until: tokio::time::Instant,
    on_drop: OnDrop,
    policy: SocketPolicy,
    live: &LiveCounts,
) -> BotOutcome
where
    S: AsyncRead + AsyncWrite,
    C: FnMut() -> F,
    F: Future<Output = io::Result<S>>,
{
    run_bot_with(config, connect, epoch, until, on_drop, policy, live, None).await
}

/// [`run_bot_counted`], asking `fresh` for the credentials of every login
/// that cannot resume (the first included) just before its connect.
#[allow(clippy::too_many_arguments)]
pub async fn run_bot_with<S, C, F>(
    config: ClientConfig,
    mut connect: C,
    epoch: tokio::time::Instant,
    until: tokio::time::Instant,
    on_drop: OnDrop,
    mut policy: SocketPolicy,
    live: &LiveCounts,
    mut fresh: Option<FreshCredentials>,
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
    let mut record = Record::default();
    record.outcome.name = config.character.clone();
    record.outcome.kind = policy.kind();
    let mut client = Client::new(config);
    while tokio::time::Instant::now() < until {
        if let Some(fresh) = fresh.as_mut().filter(|_| !client.can_resume()) {
            match fresh().await {
                Ok(credentials) => client.set_credentials(credentials),
                Err(e) => {
                    record.connect_failed(e);
                    match on_drop {
                        OnDrop::GiveUp => break,
                        OnDrop::Reconnect { retry_after } => {
                            tokio::time::sleep(retry_after).await;
                            continue;
                        }
                    }
                }
            }
        }
        let stream = match connect().await {
            Ok(s) => s,
            Err(e) => {
                record.connect_failed(e.to_string());
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
            &mut record,
            &mut policy,
            live,
        )
        .await;
        record.outcome.entity_updates = client.entity_updates();
        record.outcome.world_updates = client.world_updates();
        record.outcome.fight = policy.fight_tally();
        record.outcome.social = policy.social_tally();
        if finished {
            return record.outcome;
        }
        live.dropped.fetch_add(1, Ordering::Relaxed);
        match on_drop {
            OnDrop::GiveUp => break,
            OnDrop::Reconnect { retry_after } => tokio::time::sleep(retry_after).await,
        }
    }
    record.outcome
}

/// Drives one connection. Returns true when the run ended with the bot connected
/// (it said goodbye), false when the connection dropped first.
async fn drive<S: AsyncRead + AsyncWrite>(
    client: &mut Client,
    stream: S,
    now: &impl Fn() -> Instant,
    until: tokio::time::Instant,
    record: &mut Record,
    policy: &mut SocketPolicy,
    live: &LiveCounts,
) -> bool {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = vec![0u8; 16 * 1024];
    let move_every = policy.every();
    let mut next_move = tokio::time::Instant::now() + move_every.unwrap_or_default();
    // Set at the welcome: from then on the connection counts as connected.
    let mut welcomed_at: Option<tokio::time::Instant> = None;
    // A fresh login's first character screen is yet to come.
    let mut first_screen = false;
    let connected_since =
        |at: Option<tokio::time::Instant>| at.map(|t| t.elapsed()).unwrap_or_default();
    loop {
        if let Some(bytes) = client.poll_transmit() {
            if wr.write_all(&bytes).await.is_err() {
                client.handle_connection_lost(now());
            }
        }
        while let Some(event) = client.poll_event() {
            policy.on_event(client, now(), &event);
            match event {
                ClientEvent::Welcomed { player, resumed } => {
                    if record.outcome.welcomes == 0 {
                        live.welcomed.fetch_add(1, Ordering::Relaxed);
                    }
                    if welcomed_at.is_none() {
                        welcomed_at = Some(tokio::time::Instant::now());
                        live.connected.fetch_add(1, Ordering::Relaxed);
                    }
                    record.welcomed(player, resumed);
                    first_screen = !resumed;
                }
                ClientEvent::Characters { characters, .. } if first_screen => {
                    first_screen = false;
                    let wanted = &client.config().character;
                    if characters
                        .iter()
                        .any(|c| c.name.eq_ignore_ascii_case(wanted))
                    {
                        record.outcome.characters_found += 1;
                    } else {
                        record.outcome.characters_created += 1;
                    }
                }
                ClientEvent::RttSample { rtt } => {
                    record.outcome.rtt_samples_us.push(rtt.as_micros())
                }
                ClientEvent::Disconnected { reason } => record.disconnected(reason),
                ClientEvent::Corrected { held: false, .. } => record.outcome.corrections += 1,
                ClientEvent::Corrected { held: true, .. } => record.outcome.held_corrections += 1,
                ClientEvent::ZoneEntered { .. } => record.outcome.zones_entered += 1,
                ClientEvent::EnteredWorld { .. }
                | ClientEvent::Characters { .. }
                | ClientEvent::CharacterRefused { .. }
                | ClientEvent::Notice { .. }
                | ClientEvent::ChannelRefused { .. }
                | ClientEvent::MapChunk(_)
                | ClientEvent::Skillbook
                | ClientEvent::SkillRefused { .. }
                | ClientEvent::Combat(_)
                | ClientEvent::Social(_)
                | ClientEvent::Economy(_)
                | ClientEvent::Raid(_) => {}
            }
        }
        if matches!(client.state(), ClientState::Disconnected { .. }) {
            if welcomed_at.is_some() {
                live.connected.fetch_sub(1, Ordering::Relaxed);
            }
            record.outcome.connected += connected_since(welcomed_at);
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
                record.outcome.connected_at_end = *client.state() == ClientState::InWorld;
                client.goodbye();
                if let Some(bytes) = client.poll_transmit() {
                    let _ = wr.write_all(&bytes).await;
                }
                let _ = wr.shutdown().await;
                // Read on until the server closes: closing a socket with
                // unread input sends a reset, and the server would count a
                // lost connection instead of the goodbye.
                let _ = tokio::time::timeout(GOODBYE_LINGER, async {
                    while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
                })
                .await;
                // The goodbye's own Disconnected event is expected; drop it.
                while client.poll_event().is_some() {}
                if welcomed_at.is_some() {
                    live.connected.fetch_sub(1, Ordering::Relaxed);
                }
                record.outcome.connected += connected_since(welcomed_at);
                return true;
            }
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => client.handle_connection_lost(now()),
                Ok(n) => {
                    record.outcome.bytes_in += n as u64;
                    client.handle_bytes(now(), &buf[..n]);
                }
            },
            _ = tokio::time::sleep_until(deadline) => client.handle_timeout(now()),
            _ = tokio::time::sleep_until(next_move), if move_every.is_some() => {
                // Fixed rate, but a bot that fell behind (an overloaded load
                // generator) skips the missed steps rather than send a burst.
                next_move += move_every.unwrap_or_default();
                let at = tokio::time::Instant::now();
                if next_move < at {
                    next_move = at + move_every.unwrap_or_default();
                }
                policy.step(client, now());
            }
        }
    }
}

fn tokio_deadline(now: Instant, at: Instant) -> tokio::time::Instant {
    tokio::time::Instant::now()
        + std::time::Duration::from_micros(at.saturating_since(now).as_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: PlayerId = PlayerId(1);

    #[test]
    fn a_disconnect_is_recovered_only_by_a_resume() {
        let mut r = Record::default();
        r.welcomed(P, false);
        r.disconnected(DisconnectReason::IdleTimeout);
        r.connect_failed("refused".into());
        r.connect_failed("refused".into());
        r.welcomed(P, true);
        assert_eq!(r.outcome.disconnects, vec![DisconnectReason::IdleTimeout]);
        assert_eq!(r.outcome.recovered_disconnects, 1);
        assert_eq!(
            (
                r.outcome.connect_failures,
                r.outcome.recovered_connect_failures
            ),
            (2, 2)
        );

        // The server had let the player go: back in, but as someone new.
        r.disconnected(DisconnectReason::ConnectionLost);
        r.welcomed(PlayerId(2), false);
        // A later resume does not reach back past that fresh start.
        r.disconnected(DisconnectReason::IdleTimeout);
        r.welcomed(PlayerId(2), true);
        assert_eq!(r.outcome.disconnects.len(), 3);
        assert_eq!(r.outcome.recovered_disconnects, 2);
    }

    #[test]
    fn troubles_still_open_at_the_end_stay_unrecovered() {
        let mut r = Record::default();
        r.connect_failed("refused".into());
        r.welcomed(P, false);
        r.disconnected(DisconnectReason::IdleTimeout);
        r.connect_failed("timed out".into());
        assert_eq!(r.outcome.recovered_disconnects, 0);
        assert_eq!(
            (
                r.outcome.connect_failures,
                r.outcome.recovered_connect_failures
            ),
            (2, 1)
        );
        assert_eq!(r.outcome.last_connect_error.as_deref(), Some("timed out"));
    }
}
