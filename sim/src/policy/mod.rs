//! Bot policies: what each bot does, honest players and hostile ones, each a
//! seeded machine on top of the client machine. The simulator drives these in
//! virtual time and the socket tools (`mmo-bots`, `attack`, the turmoil tests)
//! on real sockets: the same code, so a load test walks the way a simulation
//! does. A policy reads the maps it knows ([`Atlas`]) and builds on the
//! wandering walk ([`Wander`]); it owns no transport and reads no clock.

mod atlas;
mod brawler;
mod fighter;
mod haggle;
mod heckler;
mod raider;
mod shopping;
mod social;
mod swindler;
mod trader;
mod wander;

pub use atlas::Atlas;
pub use brawler::Brawler;
pub use fighter::{FightTally, Fighter};
pub use heckler::{look_alike, HeckleTally, Heckler, Trick};
pub use raider::{Band, RaidTally, Raider, EMBER_LAIR, TRAINING_GROUNDS};
pub use social::{SocialBot, SocialTally};
pub use swindler::{SwindleTally, Swindler, Trick as SwindleTrick};
pub use trader::{ring_partners, TradeTally, Trader};
pub use wander::Wander;

use game_core::client::{Client, ClientEvent};
use game_core::math::{Fixed, Vec2};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    // Honest.
    Wander,
    Follow,
    Hotspot,
    Idle,
    Relog,
    Dropper,
    ChannelHopper,
    PortalWalker,
    Fighter,
    Social,
    Trader,
    Raider,
    // Hostile.
    SpeedHacker,
    Teleporter,
    Flooder,
    SlowReader,
    Garbage,
    Brawler,
    Heckler,
    Swindler,
}

impl Kind {
    pub const HONEST: [Kind; 12] = [
        Kind::Wander,
        Kind::Follow,
        Kind::Hotspot,
        Kind::Idle,
        Kind::Relog,
        Kind::Dropper,
        Kind::ChannelHopper,
        Kind::PortalWalker,
        Kind::Fighter,
        Kind::Social,
        Kind::Trader,
        Kind::Raider,
    ];
    pub const HOSTILE: [Kind; 8] = [
        Kind::SpeedHacker,
        Kind::Teleporter,
        Kind::Flooder,
        Kind::SlowReader,
        Kind::Garbage,
        Kind::Brawler,
        Kind::Heckler,
        Kind::Swindler,
    ];

    /// Whether the kind sends social requests (the simulator's checker
    /// watches each of them reach the node).
    pub fn talks(self) -> bool {
        matches!(self, Kind::Social | Kind::Heckler)
    }

    /// Whether the kind fights (its tally is in the report).
    pub fn fights(self) -> bool {
        matches!(
            self,
            Kind::Fighter | Kind::Brawler | Kind::Trader | Kind::Raider
        )
    }

    pub fn is_hostile(self) -> bool {
        Kind::HOSTILE.contains(&self)
    }

    /// Whether the bot logs in again after a refused character or a lost
    /// connection, as a player would: the honest, the brawler, the heckler
    /// and the swindler (hostile in their requests only, they must be in the
    /// world to be so).
    pub fn persists(self) -> bool {
        !self.is_hostile() || matches!(self, Kind::Brawler | Kind::Heckler | Kind::Swindler)
    }

    /// The name used on command lines and in reports.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Wander => "wander",
            Kind::Follow => "follow",
            Kind::Hotspot => "hotspot",
            Kind::Idle => "idle",
            Kind::Relog => "relog",
            Kind::Dropper => "dropper",
            Kind::ChannelHopper => "channel-hopper",
            Kind::PortalWalker => "portal-walker",
            Kind::Fighter => "fighter",
            Kind::Social => "social",
            Kind::Trader => "trader",
            Kind::Raider => "raider",
            Kind::SpeedHacker => "speed-hacker",
            Kind::Teleporter => "teleporter",
            Kind::Flooder => "flooder",
            Kind::SlowReader => "slow-reader",
            Kind::Garbage => "garbage",
            Kind::Brawler => "brawler",
            Kind::Heckler => "heckler",
            Kind::Swindler => "swindler",
        }
    }

    pub fn from_label(label: &str) -> Option<Kind> {
        Kind::HONEST
            .into_iter()
            .chain(Kind::HOSTILE)
            .find(|k| k.label() == label)
    }
}

/// What the driver should do besides moving.
#[derive(Debug, PartialEq, Eq)]
pub enum Act {
    None,
    /// Say goodbye; log in again after a pause.
    Relog,
    /// Cut the transport abruptly; reconnect and resume.
    Drop,
    /// Send these bytes raw (the garbage sender).
    Raw(Vec<u8>),
    /// Send this many pings at once (the flooder).
    Flood(u32),
}

#[derive(Debug)]
pub struct Policy {
    pub kind: Kind,
    wander: Wander,
    rng: ChaCha8Rng,
    next_event: Instant,
    /// How often the driver calls [`Policy::step`].
    every: Duration,
    /// A hostile bot has done its hostile thing at least once.
    pub misbehaved: bool,
    fighter: Option<Box<Fighter>>,
    brawler: Option<Box<Brawler>>,
    social: Option<Box<SocialBot>>,
    heckler: Option<Box<Heckler>>,
    trader: Option<Box<Trader>>,
    swindler: Option<Box<Swindler>>,
    raider: Option<Box<Raider>>,
}

/// How often a bot acts (moves, decides), unless told otherwise.
pub const ACT_EVERY: Duration = Duration::from_millis(100);

impl Policy {
    /// Bot `bot`'s policy under master seed `seed`, acting every [`ACT_EVERY`],
    /// its decisions drawn from its own stream.
    pub fn seeded(kind: Kind, seed: u64, bot: u64) -> Self {
        let rng = rng::stream(seed, StreamKind::Bot, bot + (1 << 32));
        Policy::new(kind, seed, bot, rng)
    }

    /// Acts every `every` instead of [`ACT_EVERY`]: the driver must call
    /// [`Policy::step`] at that period.
    pub fn acting_every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    pub fn every(&self) -> Duration {
        self.every
    }

    pub fn new(kind: Kind, seed: u64, bot: u64, rng: ChaCha8Rng) -> Self {
        // Hostile bots start early, so short runs judge them too; honest
        // events (relogs, drops, channel hops) come later and rarer.
        let first = if kind.is_hostile() {
            3_000_000
        } else {
            15_000_000
        };
        let mut rng = rng;
        let first = Instant::from_micros(first + rng.next_u64() % 2_000_000);
        // Drawn only for fighters, so other kinds' streams stay as they were.
        let fighter =
            (kind == Kind::Fighter).then(|| Box::new(Fighter::new(rng.next_u32() as usize)));
        let brawler = (kind == Kind::Brawler).then(Box::default);
        // Its own stream, so its chatter never shifts its walk.
        let social = (kind == Kind::Social).then(|| {
            Box::new(SocialBot::new(rng::stream(
                seed,
                StreamKind::Bot,
                bot + (2 << 32),
            )))
        });
        let heckler = (kind == Kind::Heckler).then(Box::default);
        // Its own stream too: its dealings never shift its walk.
        let trader = (kind == Kind::Trader).then(|| {
            Box::new(Trader::new(rng::stream(
                seed,
                StreamKind::Bot,
                bot + (3 << 32),
            )))
        });
        let swindler = (kind == Kind::Swindler).then(Box::default);
        // Its own stream: its raids never shift its walk.
        let raider = (kind == Kind::Raider).then(|| {
            Box::new(Raider::new(rng::stream(
                seed,
                StreamKind::Bot,
                bot + (4 << 32),
            )))
        });
        Policy {
            raider,
            trader,
            social,
            heckler,
            swindler,
            fighter,
            brawler,
            kind,
            wander: Wander::new(seed, bot),
            rng,
            next_event: first,
            every: ACT_EVERY,
            misbehaved: false,
        }
    }

    /// An event the client emitted, for the kinds that fight.
    pub fn on_event(&mut self, now: Instant, client: &Client, e: &ClientEvent) {
        if let Some(f) = self.fighter.as_mut() {
            f.on_event(now, client, e);
        }
        if let Some(b) = self.brawler.as_mut() {
            b.on_event(client, e);
        }
        if let Some(s) = self.social.as_mut() {
            s.on_event(client, e);
        }
        if let Some(h) = self.heckler.as_mut() {
            h.on_event(e);
        }
        if let Some(t) = self.trader.as_mut() {
            t.on_event(now, client, e);
        }
        if let Some(s) = self.swindler.as_mut() {
            s.on_event(e);
        }
        if let Some(r) = self.raider.as_mut() {
            r.on_event(now, client, e);
        }
    }

    /// Tells a raider its part in a party of raiders (the others ignore it).
    pub fn set_raid_band(&mut self, band: Band) {
        if let Some(r) = self.raider.as_mut() {
            r.set_band(band);
        }
    }

    /// What a raider did (none for the other kinds).
    pub fn raid_tally(&self) -> Option<&RaidTally> {
        self.raider.as_ref().map(|r| &r.tally)
    }

    /// Tells a trader the names of other traders it may ask (the others
    /// ignore it).
    pub fn set_trade_partners(&mut self, names: Vec<String>) {
        if let Some(t) = self.trader.as_mut() {
            t.set_partners(names);
        }
    }

    /// What a trader did (none for the other kinds).
    pub fn trade_tally(&self) -> Option<&TradeTally> {
        self.trader.as_ref().map(|t| &t.tally)
    }

    /// What a social bot did (none for the other kinds).
    pub fn social_tally(&self) -> Option<&SocialTally> {
        self.social.as_ref().map(|s| &s.tally)
    }

    /// What a fighting bot did (none for the other kinds).
    pub fn fight_tally(&self) -> Option<&FightTally> {
        self.fighter
            .as_ref()
            .map(|f| &f.tally)
            .or(self.brawler.as_ref().map(|b| &b.tally))
            .or(self.trader.as_ref().map(|t| &t.fighter.tally))
            .or(self.raider.as_ref().map(|r| &r.fighter.tally))
    }

    /// What a heckler did and got (none for the other kinds).
    pub fn heckle_tally(&self) -> Option<&HeckleTally> {
        self.heckler.as_ref().map(|h| &h.tally)
    }

    /// What a swindler did and got (none for the other kinds).
    pub fn swindle_tally(&self) -> Option<&SwindleTally> {
        self.swindler.as_ref().map(|s| &s.tally)
    }

    fn roll(&mut self, span_ms: u64) -> Duration {
        Duration::from_millis(span_ms / 2 + self.rng.next_u64() % span_ms)
    }

    /// One step at `now`: moves the client as the policy wants and says what
    /// else to do. `friend` is another bot's predicted position (for followers).
    pub fn step(
        &mut self,
        now: Instant,
        client: &mut Client,
        atlas: &Atlas,
        friend: Option<Vec2>,
    ) -> Act {
        let Some(avatar) = client.avatar() else {
            return Act::None;
        };
        let pos = avatar.position();
        let max = avatar.max_speed();
        let map = atlas.get(&avatar.map).map(|m| m.as_ref());
        let due = now >= self.next_event;
        let every = self.every;
        if self.kind.is_hostile() && (due || self.kind == Kind::SpeedHacker) {
            self.misbehaved = true;
        }
        match self.kind {
            Kind::Idle => {}
            Kind::Wander | Kind::Relog | Kind::Dropper | Kind::ChannelHopper => {
                let v = self.wander.velocity(now, pos, map, max, every);
                client.move_with(now, v);
            }
            Kind::Follow | Kind::Hotspot | Kind::PortalWalker => {
                let target = match self.kind {
                    Kind::Follow => friend,
                    Kind::Hotspot => map.map(|m| m.spawn_point() + Vec2::from_ints(12, 8)),
                    _ => map.and_then(|m| m.portals().first().map(|p| m.cell_center(p.cell))),
                };
                let v = target
                    .and_then(|t| toward(pos, t, max, map, self.kind == Kind::PortalWalker, every))
                    .unwrap_or_else(|| self.wander.velocity(now, pos, map, max, every));
                client.move_with(now, v);
            }
            Kind::Social => {
                let v = self.wander.velocity(now, pos, map, max, every);
                client.move_with(now, v);
                let s = self.social.as_mut().expect("a social bot's brain");
                s.step(now, client);
            }
            Kind::Fighter => {
                let f = self.fighter.as_mut().expect("a fighter's brain");
                if let Some(v) = f.step(now, client, atlas, &mut self.wander, every) {
                    client.move_with(now, v);
                }
            }
            Kind::Trader => {
                let t = self.trader.as_mut().expect("a trader's brain");
                if let Some(v) = t.step(now, client, atlas, &mut self.wander, every) {
                    client.move_with(now, v);
                }
            }
            Kind::Raider => {
                let r = self.raider.as_mut().expect("a raider's brain");
                let (v, drop) = r.step(now, client, atlas, &mut self.wander, every);
                if let Some(v) = v {
                    client.move_with(now, v);
                }
                if drop {
                    return Act::Drop;
                }
            }
            Kind::Brawler => {
                let v = self.wander.velocity(now, pos, map, max, every);
                client.move_with(now, v);
                if due || self.misbehaved {
                    self.misbehaved = true;
                    let b = self.brawler.as_mut().expect("a brawler's brain");
                    b.step(client, &mut self.rng, map);
                }
            }
            Kind::Heckler => {
                let v = self.wander.velocity(now, pos, map, max, every);
                client.move_with(now, v);
                if due || self.misbehaved {
                    self.misbehaved = true;
                    let h = self.heckler.as_mut().expect("a heckler's brain");
                    h.step(client, &mut self.rng);
                }
            }
            Kind::Swindler => {
                let v = self.wander.velocity(now, pos, map, max, every);
                client.move_with(now, v);
                if due || self.misbehaved {
                    self.misbehaved = true;
                    let s = self.swindler.as_mut().expect("a swindler's brain");
                    s.step(client);
                }
            }
            Kind::SpeedHacker => {
                // Three times the limit, in a straight line (turning at walls).
                let v = self.wander.velocity(now, pos, map, max, every);
                let fast = Vec2::new(
                    Fixed::from_raw(v.x.raw() * 3),
                    Fixed::from_raw(v.y.raw() * 3),
                );
                if let Some(a) = client.avatar() {
                    let us = every.as_micros() as i64;
                    let to = a.position()
                        + Vec2::new(
                            Fixed::from_raw((fast.x.raw() as i64 * us / 1_000_000) as i32),
                            Fixed::from_raw((fast.y.raw() as i64 * us / 1_000_000) as i32),
                        );
                    client.claim_position(now, to);
                }
            }
            Kind::Teleporter => {
                if due {
                    self.next_event = now + self.roll(2_000);
                    let jump = Vec2::from_ints(15 + (self.rng.next_u32() % 10) as i32, 0);
                    client.claim_position(now, pos + jump);
                }
            }
            Kind::Flooder => {
                // From its first event on, 40 pings every step: 400 a second.
                if due {
                    return Act::Flood(40);
                }
            }
            Kind::SlowReader => {
                let v = self.wander.velocity(now, pos, map, max, every);
                client.move_with(now, v);
            }
            Kind::Garbage => {
                // From its first event on, a frame of junk every step.
                if due {
                    let mut junk = vec![0u8; 16];
                    junk[..4].copy_from_slice(&12u32.to_le_bytes());
                    for b in &mut junk[4..] {
                        *b = 0xff;
                    }
                    return Act::Raw(junk);
                }
            }
        }
        if due {
            self.next_event = now + self.roll(30_000);
            match self.kind {
                Kind::Relog => return Act::Relog,
                Kind::Dropper => return Act::Drop,
                Kind::ChannelHopper => {
                    let channel = (self.rng.next_u32() % 2) as u16;
                    client.switch_channel(channel);
                }
                _ => {}
            }
        }
        Act::None
    }
}

/// Velocity from `pos` toward `target` at 70% of the limit, or `None` when the
/// way is blocked (or already there). Portal walkers may step onto the portal.
pub(crate) fn toward(
    pos: Vec2,
    target: Vec2,
    max: Fixed,
    map: Option<&game_core::zone::Map>,
    portal_ok: bool,
    every: Duration,
) -> Option<Vec2> {
    let d = target - pos;
    let len = (d.length_squared_raw() as u64).isqrt() as i64;
    if len < 256 {
        return None;
    }
    let s = max.raw() as i64 * 70 / 100;
    let v = Vec2::new(
        Fixed::from_raw((d.x.raw() as i64 * s / len) as i32),
        Fixed::from_raw((d.y.raw() as i64 * s / len) as i32),
    );
    let ahead = pos
        + Vec2::new(
            Fixed::from_raw((v.x.raw() as i64 * 3 / 10) as i32),
            Fixed::from_raw((v.y.raw() as i64 * 3 / 10) as i32),
        );
    let clear = map.is_none_or(|m| {
        wander::steps_walkable(m, pos, v, every) && (portal_ok || m.portal_at(ahead).is_none())
    });
    clear.then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 16 (1,000 bots, 60 s, swarm): a follower at this spot on the
    /// meadow, heading for its friend, checked one segment three steps long
    /// (walkable) and then sent a 100 ms step that rounds onto y = 150 m
    /// exactly, beside a wall's corner: blocked, and the honest bot corrected.
    #[test]
    fn a_follower_never_takes_a_step_the_server_finds_blocked() {
        let atlas = Atlas::samples();
        let map = atlas.get("meadow").expect("the sample meadow").as_ref();
        let raw = |x, y| Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y));
        let pos = raw(45_979, 38_390);
        let friend = raw(46_541, 38_447);
        let max = Fixed::from_raw(6 * 256);
        let v = raw(1_071, 108);
        let three_steps = raw(45_979 + 321, 38_390 + 32);
        assert!(map.segment_walkable(pos, three_steps), "the old look-ahead");
        assert!(!map.segment_walkable(pos, raw(46_086, 38_400)), "the step");
        assert!(!wander::steps_walkable(map, pos, v, ACT_EVERY));
        assert_eq!(toward(pos, friend, max, Some(map), false, ACT_EVERY), None);
    }
}
