//! The raider: an honest player who raids. Between raids it hunts as the
//! fighter does; now and then it queues for a raid (the training grounds
//! mostly, the ember lair in a role when its level fits), or, if it leads a
//! little party of raiders, invites them and queues the party as one
//! ticket. It accepts a ready check (declining a few percent), walks to the
//! boss and fights it with the fighter's own targeting and skills, steps
//! out of an area attack's circle before it lands, claims its reward after
//! a victory, and leaves or waits for the close. A few raiders drop their
//! connection once inside, to come back through a resume.
//!
//! What it believes of the queue and the instance it keeps itself, from the
//! raid messages, and forgets on a fresh (not resumed) session: the
//! client's own record outlives a node that forgot it.

use super::{toward, Atlas, Fighter, Wander};
use game_core::client::{Client, ClientEvent};
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    Cause, ClientRaid, ClientSocial, RaidEnd, RaidRefusal, ServerEconomy, ServerRaid, ServerSocial,
};
use game_core::raid::Role;
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;
use std::collections::BTreeMap;

/// `ember_lair` and `training_grounds`: their places in `raids.toml`.
pub const EMBER_LAIR: u16 = 0;
pub const TRAINING_GROUNDS: u16 = 1;
/// The highest level the ember lair's level groups take.
const EMBER_MAX_LEVEL: u16 = 30;
/// Percent of queue decisions that pick the ember lair (when the level fits).
const EMBER_PCT: u32 = 25;
/// Percent of ready checks declined.
const DECLINE_PCT: u32 = 4;
/// Percent of tickets the raider gives up on while waiting.
const LEAVE_QUEUE_PCT: u32 = 3;
/// Percent of raiders that drop their connection once inside an instance.
const DROP_PCT: u32 = 15;
/// A party member with no invite by then queues alone.
const PARTY_WAIT: Duration = Duration::from_secs(12);
/// While waiting with no news this long, it asks where it stands.
const STATUS_EVERY: Duration = Duration::from_secs(15);
/// An unclaimed reward is claimed again this often (a busy inventory).
const CLAIM_AGAIN: Duration = Duration::from_secs(2);
const CLAIM_TRIES: u8 = 5;
/// Outside an area attack's circle by this much more than its radius.
const CLEAR_OF: Fixed = Fixed::from_raw(3 * 256);

/// What a raider did and heard, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RaidTally {
    /// Queue requests sent, and tickets the node said were queued.
    pub queue_requests: u64,
    pub queued: u64,
    pub party_queues: u64,
    pub ready_checks: u64,
    pub accepted: u64,
    pub declined: u64,
    pub left_queue: u64,
    pub entered: u64,
    pub victories: u64,
    pub time_ups: u64,
    pub wipes: u64,
    pub claims_sent: u64,
    pub rewards_claimed: u64,
    /// Inventory changes caused by a raid's reward.
    pub reward_changes: u64,
    pub dodges: u64,
    pub drops: u64,
    pub invites_sent: u64,
    pub refusals: BTreeMap<&'static str, u64>,
}

impl RaidTally {
    pub fn add(&mut self, o: &RaidTally) {
        self.queue_requests += o.queue_requests;
        self.queued += o.queued;
        self.party_queues += o.party_queues;
        self.ready_checks += o.ready_checks;
        self.accepted += o.accepted;
        self.declined += o.declined;
        self.left_queue += o.left_queue;
        self.entered += o.entered;
        self.victories += o.victories;
        self.time_ups += o.time_ups;
        self.wipes += o.wipes;
        self.claims_sent += o.claims_sent;
        self.rewards_claimed += o.rewards_claimed;
        self.reward_changes += o.reward_changes;
        self.dodges += o.dodges;
        self.drops += o.drops;
        self.invites_sent += o.invites_sent;
        for (k, v) in &o.refusals {
            *self.refusals.entry(k).or_default() += v;
        }
    }
}

/// Its part in a little party of raiders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Band {
    /// Queues alone.
    #[default]
    Alone,
    /// Invites these and queues the party.
    Leads(Vec<String>),
    /// Waits for this leader's invite.
    Follows(String),
}

#[derive(Debug)]
pub struct Raider {
    rng: ChaCha8Rng,
    pub fighter: Fighter,
    role: Role,
    band: Band,
    /// When it may next queue (set on entering the world and after a raid).
    next_queue: Option<Instant>,
    /// Waiting in a queue or a ready check, since when, and the last news.
    waiting: Option<Instant>,
    /// The node said it is queued (until the ticket ends).
    ticket: bool,
    /// It will leave this ticket at that time.
    leave_at: Option<Instant>,
    /// The ready check it answered last.
    answered: Option<u64>,
    /// The instance it is in, and that raid's kind.
    inside: Option<(u64, u16)>,
    /// A reward to claim: the instance, the last try and the tries.
    reward: Option<(u64, Option<Instant>, u8)>,
    /// Leaves the ended raid's instance at that time (else waits for the close).
    leave_instance_at: Option<Instant>,
    /// When the ended raid's instance closes: till then the node counts it
    /// a member, and refuses to queue it.
    closes_at: Option<Instant>,
    /// Drops its connection at that time, once (a raider that drops).
    drop_at: Option<Instant>,
    drops: bool,
    /// When the last party invite was sent.
    invited: Option<Instant>,
    /// Answers decided on an event, sent at the next step.
    outbox: Vec<Request>,
    pub tally: RaidTally,
}

#[derive(Debug)]
enum Request {
    Raid(ClientRaid),
    Social(ClientSocial),
}

impl Raider {
    pub fn new(mut rng: ChaCha8Rng) -> Self {
        let role = match rng.next_u32() % 10 {
            0..=1 => Role::Tank,
            2..=3 => Role::Healer,
            _ => Role::Damage,
        };
        let drops = rng.next_u32() % 100 < DROP_PCT;
        let ground = rng.next_u32() as usize;
        Raider {
            rng,
            fighter: Fighter::new(ground),
            role,
            band: Band::Alone,
            next_queue: None,
            waiting: None,
            ticket: false,
            leave_at: None,
            answered: None,
            inside: None,
            reward: None,
            leave_instance_at: None,
            closes_at: None,
            drop_at: None,
            drops,
            invited: None,
            outbox: Vec::new(),
            tally: RaidTally::default(),
        }
    }

    /// Its part in a party of raiders (the simulator assigns them).
    pub fn set_band(&mut self, band: Band) {
        self.band = band;
    }

    fn wait(&mut self, min_ms: u64, max_ms: u64) -> Duration {
        Duration::from_millis(min_ms + self.rng.next_u64() % (max_ms - min_ms).max(1))
    }

    /// A fresh session: the node knows nothing of its queue or instance.
    fn forget(&mut self) {
        self.waiting = None;
        self.ticket = false;
        self.leave_at = None;
        self.answered = None;
        self.inside = None;
        self.reward = None;
        self.leave_instance_at = None;
        self.next_queue = None;
        self.invited = None;
        self.outbox.clear();
        self.fighter.hunt(None, None);
    }

    pub fn on_event(&mut self, now: Instant, client: &Client, e: &ClientEvent) {
        self.fighter.on_event(now, client, e);
        match e {
            ClientEvent::Welcomed { resumed: false, .. } => self.forget(),
            ClientEvent::Raid(msg) => self.on_raid(now, msg),
            ClientEvent::Social(ServerSocial::PartyInvited { from, .. }) => {
                let accept = matches!(&self.band, Band::Follows(l) if *l == from.name)
                    && client.social().party.is_none()
                    && self.inside.is_none();
                self.outbox.push(Request::Social(ClientSocial::PartyAnswer {
                    from: from.character,
                    accept,
                }));
            }
            ClientEvent::Economy(ServerEconomy::Changed {
                cause: Cause::Raid, ..
            }) => self.tally.reward_changes += 1,
            _ => {}
        }
    }

    fn on_raid(&mut self, now: Instant, msg: &ServerRaid) {
        match msg {
            ServerRaid::Queued(_) => {
                if !self.ticket {
                    self.ticket = true;
                    self.tally.queued += 1;
                    if self.rng.next_u32() % 100 < LEAVE_QUEUE_PCT {
                        self.leave_at = Some(now + self.wait(2_000, 10_000));
                    }
                }
                self.waiting = Some(now);
            }
            ServerRaid::LeftQueue { .. } => {
                self.waiting = None;
                self.ticket = false;
                self.leave_at = None;
                self.next_queue = Some(now + self.wait(2_000, 8_000));
            }
            ServerRaid::ReadyCheck { ready, .. } => {
                self.waiting = Some(now);
                self.tally.ready_checks += 1;
                if self.answered != Some(*ready) {
                    self.answered = Some(*ready);
                    let ready = *ready;
                    let answer = if self.rng.next_u32() % 100 < DECLINE_PCT {
                        self.tally.declined += 1;
                        ClientRaid::Decline { ready }
                    } else {
                        self.tally.accepted += 1;
                        ClientRaid::Accept { ready }
                    };
                    self.outbox.push(Request::Raid(answer));
                }
            }
            ServerRaid::ReadyCheckFailed { requeued, .. } => {
                if !requeued {
                    self.waiting = None;
                }
            }
            ServerRaid::Entered(view) => {
                if self.inside.map(|(i, _)| i) != Some(view.instance) {
                    self.tally.entered += 1;
                    if self.drops && self.drop_at.is_none() {
                        self.drop_at = Some(now + self.wait(3_000, 30_000));
                    }
                }
                self.waiting = None;
                self.ticket = false;
                self.leave_at = None;
                self.inside = Some((view.instance, view.raid));
            }
            ServerRaid::Ended {
                instance,
                end,
                reward,
                closes_in_ms,
                ..
            } => {
                self.closes_at = Some(now + Duration::from_millis(u64::from(*closes_in_ms)));
                match end {
                    RaidEnd::Victory => self.tally.victories += 1,
                    RaidEnd::TimeUp => self.tally.time_ups += 1,
                    RaidEnd::Wiped => self.tally.wipes += 1,
                }
                if reward.is_some() {
                    self.reward = Some((*instance, None, 0));
                }
                if self.rng.next_u32() % 2 == 0 {
                    self.leave_instance_at = Some(now + self.wait(3_000, 8_000));
                }
            }
            ServerRaid::Left { .. } => {
                self.inside = None;
                self.reward = None;
                self.leave_instance_at = None;
                self.fighter.hunt(None, None);
                let after = now + self.wait(3_000, 10_000);
                let closed = self
                    .closes_at
                    .take()
                    .map_or(after, |t| t + Duration::from_secs(1));
                self.next_queue = Some(after.max(closed));
            }
            ServerRaid::RewardClaimed { .. } => {
                self.reward = None;
                self.tally.rewards_claimed += 1;
            }
            ServerRaid::Refused { reason } => {
                *self.tally.refusals.entry(reason.label()).or_default() += 1;
                self.refused(now, *reason);
            }
            ServerRaid::State(_)
            | ServerRaid::AreaWarning { .. }
            | ServerRaid::Leaderboard { .. } => {}
        }
    }

    /// What a refusal says of where it stands.
    fn refused(&mut self, now: Instant, reason: RaidRefusal) {
        use RaidRefusal as R;
        match reason {
            // Queued or checking after all; a ready check's answer raced
            // its end (the failure follows).
            R::AlreadyQueued | R::InReadyCheck | R::NotYourMatch | R::AlreadyAccepted => {}
            // The inventory is busy: the claim is tried again.
            R::Busy => {}
            R::NoReward | R::AlreadyClaimed | R::NotYourInstance | R::RaidOver => {
                self.reward = None
            }
            R::NotInInstance => {
                self.inside = None;
                self.reward = None;
            }
            // A queue request refused, or not queued after all: later.
            _ => {
                if self.inside.is_none() && self.waiting.is_some() {
                    self.waiting = None;
                    self.ticket = false;
                    self.leave_at = None;
                    self.next_queue = Some(now + self.wait(3_000, 10_000));
                }
            }
        }
    }

    /// One step: the velocity to move at (`None`: no move), and whether to
    /// drop the connection now.
    pub fn step(
        &mut self,
        now: Instant,
        client: &mut Client,
        atlas: &Atlas,
        wander: &mut Wander,
        every: Duration,
    ) -> (Option<Vec2>, bool) {
        for r in std::mem::take(&mut self.outbox) {
            match r {
                Request::Raid(r) => client.raid_request(r),
                Request::Social(r) => client.social_request(r),
            }
        }
        if self.inside.is_some() {
            return self.in_instance(now, client, atlas, wander, every);
        }
        self.between_raids(now, client);
        (self.fighter.step(now, client, atlas, wander, every), false)
    }

    fn between_raids(&mut self, now: Instant, client: &mut Client) {
        if let Some(since) = self.waiting {
            if self.leave_at.is_some_and(|t| now >= t) {
                self.leave_at = None;
                self.tally.left_queue += 1;
                client.raid_request(ClientRaid::LeaveQueue);
            } else if now.saturating_since(since) >= STATUS_EVERY {
                self.waiting = Some(now);
                client.raid_request(ClientRaid::Status);
            }
            return;
        }
        if !client.social().loaded {
            return;
        }
        let next = *self
            .next_queue
            .get_or_insert(now + Duration::from_millis(2_000 + self.rng.next_u64() % 6_000));
        if now < next {
            return;
        }
        let party = client.social().party.as_ref();
        let band = self.band.clone();
        match band {
            Band::Follows(leader) => {
                let led = party.is_some_and(|p| p.members.iter().any(|(c, _)| c.name == leader));
                if led || now.saturating_since(next) < PARTY_WAIT {
                    // The leader queues us (or may yet invite us).
                    return;
                }
                if party.is_some() {
                    self.next_queue = Some(now + Duration::from_secs(5));
                    client.social_request(ClientSocial::PartyLeave);
                    return;
                }
            }
            Band::Leads(names) => {
                let missing: Vec<&String> = names
                    .iter()
                    .filter(|n| party.is_none_or(|p| !p.members.iter().any(|(c, _)| c.name == **n)))
                    .collect();
                if !missing.is_empty()
                    && self
                        .invited
                        .is_none_or(|t| now.saturating_since(t) >= Duration::from_secs(4))
                    && now.saturating_since(next) < PARTY_WAIT
                {
                    self.invited = Some(now);
                    let name = missing[self.rng.next_u32() as usize % missing.len()].clone();
                    self.tally.invites_sent += 1;
                    client.social_request(ClientSocial::PartyInvite { name });
                    return;
                }
                if !missing.is_empty() && now.saturating_since(next) < PARTY_WAIT {
                    return;
                }
            }
            Band::Alone => {}
        }
        self.queue(now, client);
    }

    fn queue(&mut self, now: Instant, client: &mut Client) {
        let level = client.fight().vitals.map_or(1, |v| v.level);
        let social = client.social();
        let me = social
            .party
            .as_ref()
            .and_then(|p| {
                p.members
                    .iter()
                    .find(|(c, _)| c.name == client.config().character)
            })
            .map(|(c, _)| c.character);
        let leads = social
            .party
            .as_ref()
            .is_some_and(|p| me == Some(p.leader) && p.members.len() > 1 && p.members.len() <= 5);
        let raid = if !leads && level <= EMBER_MAX_LEVEL && self.rng.next_u32() % 100 < EMBER_PCT {
            EMBER_LAIR
        } else {
            TRAINING_GROUNDS
        };
        self.tally.queue_requests += 1;
        if leads {
            self.tally.party_queues += 1;
        }
        self.answered = None;
        self.waiting = Some(now);
        self.next_queue = None;
        client.raid_request(ClientRaid::Queue {
            raid,
            role: self.role,
            party: leads,
        });
    }

    fn in_instance(
        &mut self,
        now: Instant,
        client: &mut Client,
        atlas: &Atlas,
        wander: &mut Wander,
        every: Duration,
    ) -> (Option<Vec2>, bool) {
        let Some((instance, raid)) = self.inside else {
            return (None, false);
        };
        if self.drop_at.is_some_and(|t| now >= t) {
            self.drop_at = None;
            self.drops = false;
            self.tally.drops += 1;
            return (None, true);
        }
        if let Some((at, last, tries)) = self.reward {
            if last.is_none_or(|t| now.saturating_since(t) >= CLAIM_AGAIN) && tries < CLAIM_TRIES {
                self.reward = Some((at, Some(now), tries + 1));
                self.tally.claims_sent += 1;
                client.raid_request(ClientRaid::ClaimReward { instance: at });
            }
        }
        if self.leave_instance_at.is_some_and(|t| now >= t) && self.reward.is_none() {
            self.leave_instance_at = None;
            client.raid_request(ClientRaid::Leave);
        }
        let view = client.raid().raid.filter(|v| v.instance == instance);
        let boss = view.and_then(|v| v.boss);
        self.fighter.hunt(boss, atlas.boss(raid));
        if let Some(v) = self.dodge(now, client, atlas, every) {
            return (Some(v), false);
        }
        (self.fighter.step(now, client, atlas, wander, every), false)
    }

    /// A velocity out of every area attack's circle that will land on it,
    /// if it stands in one.
    fn dodge(
        &mut self,
        now: Instant,
        client: &Client,
        atlas: &Atlas,
        every: Duration,
    ) -> Option<Vec2> {
        let avatar = client.avatar()?;
        if client.fight().is_dead() {
            return None;
        }
        let (pos, speed) = (avatar.position(), avatar.speed_now());
        let map = atlas.get(&avatar.map).map(|m| m.as_ref());
        let (center, radius, _) = *client.raid().warnings_at(now).find(|(c, r, _)| {
            let reach = r.raw() as i64 + CLEAR_OF.raw() as i64;
            (pos - *c).length_squared_raw() < reach * reach
        })?;
        let d = pos - center;
        let len = (d.length_squared_raw() as u64).isqrt() as i64;
        let (dx, dy) = if len == 0 {
            (256, 0)
        } else {
            (d.x.raw() as i64 * 256 / len, d.y.raw() as i64 * 256 / len)
        };
        let out = (radius.raw() + CLEAR_OF.raw()) as i64 + 256;
        // Straight out, else sideways either way, else back through.
        for (x, y) in [(dx, dy), (-dy, dx), (dy, -dx), (-dx, -dy)] {
            let goal = center
                + Vec2::new(
                    Fixed::from_raw((x * out / 256) as i32),
                    Fixed::from_raw((y * out / 256) as i32),
                );
            if let Some(v) = toward(pos, goal, speed, map, false, every) {
                self.tally.dodges += 1;
                return Some(v);
            }
        }
        None
    }
}
