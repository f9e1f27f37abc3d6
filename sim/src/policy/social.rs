//! The social player: an honest player who talks. It wanders, and at seeded
//! random intervals speaks on every channel it may (say, zone, its party's
//! and its guild's when it has them, world rarely), whispers friends and the
//! players it has heard, asks and answers friend requests, forms parties
//! (invites, accepts or declines, leaves, kicks, promotes), founds or joins
//! guilds, and blocks someone now and then (unblocking later).
//!
//! It keeps the server's rates with room to spare: each channel has its own
//! pace, well below the default limits (`SocialConfig::default`), and every
//! other request (answers included) waits for one shared action gate. Text
//! is unique per bot (`"<channel> <name> #<n>"`), so the simulator's checks
//! can tell every line apart. At most one request goes out per step.
//!
//! Its refusals are counted by reason ([`SocialTally`]): an honest bot is
//! refused for the game's reasons (the one invited is already in a party,
//! the name went offline), never for its pace (`rate_limited`).

use game_core::client::{Client, ClientEvent};
use game_core::ids::{CharacterId, GuildId};
use game_core::protocol::{ChatChannel, ClientSocial, Contact, GuildRank, ServerSocial};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Names of players heard lately, kept to whisper and invite.
const KNOWN: usize = 24;
/// Members a social leader invites up to.
const PARTY_GOAL: usize = 4;
/// One in this many social bots founds a guild.
const FOUNDERS: u32 = 6;

/// What a social bot did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SocialTally {
    /// Lines sent, by channel label (whispers included).
    pub sent: BTreeMap<&'static str, u64>,
    /// Other requests sent (invitations, answers, blocks...).
    pub actions: u64,
    /// Lines heard, by channel label.
    pub heard: BTreeMap<&'static str, u64>,
    /// Lines the server shed because the client fell behind.
    pub missed: u64,
    pub parties_joined: u64,
    pub guilds_joined: u64,
    pub friends_made: u64,
    /// Refusals by [`game_core::protocol::SocialRefusal::label`].
    pub refusals: BTreeMap<&'static str, u64>,
}

impl SocialTally {
    pub fn add(&mut self, o: &SocialTally) {
        for (k, v) in &o.sent {
            *self.sent.entry(k).or_default() += v;
        }
        for (k, v) in &o.heard {
            *self.heard.entry(k).or_default() += v;
        }
        for (k, v) in &o.refusals {
            *self.refusals.entry(k).or_default() += v;
        }
        self.actions += o.actions;
        self.missed += o.missed;
        self.parties_joined += o.parties_joined;
        self.guilds_joined += o.guilds_joined;
        self.friends_made += o.friends_made;
    }

    pub fn refused(&self) -> u64 {
        self.refusals.values().sum()
    }

    /// Refusals for going too fast: an honest bot's pace is wrong if any.
    pub fn rate_limited(&self) -> u64 {
        self.refusals.get("rate_limited").copied().unwrap_or(0)
    }
}

/// Each channel's pace: the shortest and longest wait between two lines, ms.
/// The server's defaults are 1/s (say), 1/3 s (zone), 2/s (party, whisper),
/// 1/s (guild), 1/30 s with no burst (world), 1/s for actions.
const PACE: [(ChatChannel, u64, u64); 6] = [
    (ChatChannel::Say, 3_000, 9_000),
    (ChatChannel::Zone, 8_000, 24_000),
    (ChatChannel::Party, 3_000, 9_000),
    (ChatChannel::Guild, 4_000, 12_000),
    (ChatChannel::World, 60_000, 180_000),
    (ChatChannel::Whisper, 4_000, 12_000),
];
/// Between two other requests (the server allows 1/s, 5 at once).
const ACTION_PACE: (u64, u64) = (1_500, 4_000);
/// Before a new decision about friends, parties, guilds or blocks.
const DECIDE_PACE: (u64, u64) = (4_000, 12_000);

#[derive(Debug)]
pub struct SocialBot {
    rng: ChaCha8Rng,
    /// When each channel of [`PACE`] may next be used.
    next_line: [Instant; 6],
    next_action: Instant,
    next_decision: Instant,
    lines: u64,
    /// Answers owed, sent through the action gate in order.
    answers: VecDeque<ClientSocial>,
    known: VecDeque<Contact>,
    /// Friends as the server last listed them, to count new ones.
    friends: BTreeSet<CharacterId>,
    /// Party and guild as the server last said (to count joins).
    in_party: bool,
    guild: Option<GuildId>,
    founder: bool,
    guilds_founded: u32,
    /// Whom it blocked, and when it unblocks.
    unblock_at: Option<(CharacterId, Instant)>,
    pub tally: SocialTally,
}

impl SocialBot {
    pub fn new(mut rng: ChaCha8Rng) -> Self {
        let founder = rng.next_u32() % FOUNDERS == 0;
        SocialBot {
            rng,
            next_line: [Instant::ZERO; 6],
            next_action: Instant::ZERO,
            next_decision: Instant::ZERO,
            lines: 0,
            answers: VecDeque::new(),
            known: VecDeque::new(),
            friends: BTreeSet::new(),
            in_party: false,
            guild: None,
            founder,
            guilds_founded: 0,
            unblock_at: None,
            tally: SocialTally::default(),
        }
    }

    fn wait(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_millis(lo + self.rng.next_u64() % (hi - lo).max(1))
    }

    fn me(client: &Client) -> Option<CharacterId> {
        let name = &client.config().character;
        client
            .characters()
            .iter()
            .find(|c| &c.name == name)
            .map(|c| c.id)
    }

    fn learn(&mut self, c: &Contact, me: Option<CharacterId>) {
        if Some(c.character) == me || c.character == CharacterId(0) {
            return;
        }
        self.known.retain(|k| k.character != c.character);
        if self.known.len() >= KNOWN {
            self.known.pop_front();
        }
        self.known.push_back(c.clone());
    }

    pub fn on_event(&mut self, client: &Client, e: &ClientEvent) {
        let ClientEvent::Social(msg) = e else {
            return;
        };
        let me = Self::me(client);
        let v = client.social();
        match msg {
            ServerSocial::Chat(line) => {
                *self.tally.heard.entry(line.channel.label()).or_default() += 1;
                let c = Contact {
                    character: line.from,
                    name: line.from_name.clone(),
                };
                self.learn(&c, me);
            }
            ServerSocial::Refused { reason, .. } => {
                *self.tally.refusals.entry(reason.label()).or_default() += 1;
            }
            ServerSocial::ChatMissed { count } => self.tally.missed += *count as u64,
            ServerSocial::FriendRequested { from } => {
                let accept = self.rng.next_u32() % 100 < 85;
                self.answers.push_back(ClientSocial::FriendAnswer {
                    from: from.character,
                    accept,
                });
            }
            ServerSocial::Friends { friends } => {
                self.friends = friends.iter().map(|f| f.contact.character).collect();
            }
            ServerSocial::FriendChanged(f) => {
                if self.friends.insert(f.contact.character) {
                    self.tally.friends_made += 1;
                }
                self.learn(&f.contact, me);
            }
            ServerSocial::FriendRemoved { character } => {
                self.friends.remove(character);
            }
            ServerSocial::PartyInvited { from, .. } => {
                let accept = v.party.is_none() && self.rng.next_u32() % 100 < 70;
                self.answers.push_back(ClientSocial::PartyAnswer {
                    from: from.character,
                    accept,
                });
            }
            ServerSocial::GuildInvited { guild, .. } => {
                let accept = v.guild.is_none() && self.rng.next_u32() % 100 < 80;
                self.answers.push_back(ClientSocial::GuildAnswer {
                    guild: *guild,
                    accept,
                });
            }
            ServerSocial::Party(p) => {
                if p.is_some() && !self.in_party {
                    self.tally.parties_joined += 1;
                }
                self.in_party = p.is_some();
                for (c, _) in p.iter().flat_map(|p| &p.members) {
                    self.learn(c, me);
                }
            }
            ServerSocial::Guild(g) => {
                let id = g.as_ref().map(|g| g.guild);
                if id.is_some() && id != self.guild {
                    self.tally.guilds_joined += 1;
                }
                self.guild = id;
            }
            _ => {}
        }
    }

    /// One step: at most one request.
    pub fn step(&mut self, now: Instant, client: &mut Client) {
        let v = client.social();
        if !v.loaded {
            // A new connection: the server's record is not loaded yet.
            self.answers.clear();
            self.in_party = false;
            self.guild = None;
            return;
        }
        let request = self.choose(now, client);
        if let Some(r) = request {
            match &r {
                ClientSocial::Chat { channel, .. } => {
                    *self.tally.sent.entry(channel.label()).or_default() += 1
                }
                ClientSocial::Whisper { .. } => *self.tally.sent.entry("whisper").or_default() += 1,
                _ => self.tally.actions += 1,
            }
            client.social_request(r);
        }
    }

    fn choose(&mut self, now: Instant, client: &Client) -> Option<ClientSocial> {
        if now >= self.next_action {
            if let Some(answer) = self.answers.pop_front() {
                self.next_action = now + self.wait(ACTION_PACE);
                return Some(answer);
            }
        }
        if let Some(line) = self.line(now, client) {
            return Some(line);
        }
        if now >= self.next_action && now >= self.next_decision {
            self.next_decision = now + self.wait(DECIDE_PACE);
            let action = self.decide(now, client);
            if action.is_some() {
                self.next_action = now + self.wait(ACTION_PACE);
            }
            return action;
        }
        None
    }

    /// A line on the first channel that is due and usable.
    fn line(&mut self, now: Instant, client: &Client) -> Option<ClientSocial> {
        let v = client.social();
        let name = client.config().character.clone();
        for (slot, &(channel, lo, hi)) in PACE.iter().enumerate() {
            if now < self.next_line[slot] {
                continue;
            }
            if self.next_line[slot] == Instant::ZERO {
                // The first line of each channel comes after one wait
                // (shorter: a minute's run still hears the world).
                self.next_line[slot] = now + self.wait((lo / 6, hi));
                continue;
            }
            let usable = match channel {
                ChatChannel::Party => v.party.is_some(),
                ChatChannel::Guild => v.guild.is_some(),
                _ => true,
            };
            let to = if channel == ChatChannel::Whisper {
                match self.whisper_target(client) {
                    Some(to) => Some(to),
                    None => continue,
                }
            } else {
                None
            };
            if !usable {
                continue;
            }
            self.next_line[slot] = now + self.wait((lo, hi));
            self.lines += 1;
            let text = format!("{} {name} #{}", channel.label(), self.lines);
            return Some(match to {
                Some(to) => ClientSocial::Whisper { to, text },
                None => ClientSocial::Chat { channel, text },
            });
        }
        None
    }

    /// An online friend, else someone heard lately (not blocked).
    fn whisper_target(&mut self, client: &Client) -> Option<String> {
        let v = client.social();
        let online: Vec<&Contact> = v
            .friends
            .iter()
            .filter(|f| f.online.is_some())
            .map(|f| &f.contact)
            .collect();
        if !online.is_empty() && self.rng.next_u32() % 2 == 0 {
            let i = self.rng.next_u32() as usize % online.len();
            return Some(online[i].name.clone());
        }
        self.pick_known(client, |_| true).map(|c| c.name)
    }

    fn pick_known(&mut self, client: &Client, keep: impl Fn(&Contact) -> bool) -> Option<Contact> {
        let v = client.social();
        let fit: Vec<&Contact> = self
            .known
            .iter()
            .filter(|c| !v.blocked.iter().any(|b| b.character == c.character) && keep(c))
            .collect();
        (!fit.is_empty()).then(|| fit[self.rng.next_u32() as usize % fit.len()].clone())
    }

    /// Something about friends, the party, the guild or blocks.
    fn decide(&mut self, now: Instant, client: &Client) -> Option<ClientSocial> {
        let v = client.social();
        let me = Self::me(client)?;
        if let Some((whom, at)) = self.unblock_at {
            if now >= at {
                self.unblock_at = None;
                return Some(ClientSocial::Unblock { character: whom });
            }
        }
        let roll = self.rng.next_u32() % 100;
        match roll {
            0..=19 => {
                let friends = v.friends.len();
                if friends >= 20 {
                    let i = self.rng.next_u32() as usize % friends;
                    return Some(ClientSocial::FriendRemove {
                        character: v.friends[i].contact.character,
                    });
                }
                let c = self.pick_known(client, |c| !v.is_friend(c.character))?;
                Some(ClientSocial::FriendRequest { name: c.name })
            }
            20..=59 => self.party_move(client, me),
            60..=89 => self.guild_move(client, me),
            _ => {
                if self.unblock_at.is_some() || roll < 96 {
                    return None;
                }
                let c = self.pick_known(client, |c| !v.is_friend(c.character))?;
                let after = self.wait((20_000, 60_000));
                self.unblock_at = Some((c.character, now + after));
                Some(ClientSocial::Block {
                    character: c.character,
                })
            }
        }
    }

    fn party_move(&mut self, client: &Client, me: CharacterId) -> Option<ClientSocial> {
        let v = client.social();
        let roll = self.rng.next_u32() % 100;
        let Some(p) = v.party.as_ref() else {
            let c = self.pick_known(client, |_| true)?;
            return Some(ClientSocial::PartyInvite { name: c.name });
        };
        let others: Vec<CharacterId> = p
            .members
            .iter()
            .map(|(c, _)| c.character)
            .filter(|&c| c != me)
            .collect();
        if p.leader != me {
            return (roll < 12).then_some(ClientSocial::PartyLeave);
        }
        let some_other = others[self.rng.next_u32() as usize % others.len().max(1)];
        match roll {
            0..=9 => Some(ClientSocial::PartyLeave),
            10..=17 if !others.is_empty() => Some(ClientSocial::PartyKick {
                character: some_other,
            }),
            18..=29 if !others.is_empty() => Some(ClientSocial::PartyPromote {
                character: some_other,
            }),
            _ if p.members.len() < PARTY_GOAL => {
                let c = self.pick_known(client, |c| {
                    !p.members.iter().any(|(m, _)| m.character == c.character)
                })?;
                Some(ClientSocial::PartyInvite { name: c.name })
            }
            _ => None,
        }
    }

    fn guild_move(&mut self, client: &Client, me: CharacterId) -> Option<ClientSocial> {
        let v = client.social();
        let roll = self.rng.next_u32() % 100;
        let Some(g) = v.guild.as_ref() else {
            if !self.founder || v.guild_invite.is_some() {
                return None;
            }
            self.guilds_founded += 1;
            let name = format!("{} Hall {}", client.config().character, self.guilds_founded);
            return Some(ClientSocial::GuildCreate { name });
        };
        let rank = g
            .members
            .iter()
            .find(|(c, _, _)| c.character == me)
            .map(|&(_, r, _)| r)?;
        let members: Vec<(CharacterId, GuildRank)> = g
            .members
            .iter()
            .map(|(c, r, _)| (c.character, *r))
            .filter(|&(c, _)| c != me)
            .collect();
        match (rank, roll) {
            (GuildRank::Member, 0..=4) => Some(ClientSocial::GuildLeave),
            (GuildRank::Leader, 0..=9) if !members.is_empty() => {
                let (c, r) = members[self.rng.next_u32() as usize % members.len()];
                let rank = if r == GuildRank::Member {
                    GuildRank::Officer
                } else {
                    GuildRank::Member
                };
                Some(ClientSocial::GuildSetRank { character: c, rank })
            }
            (GuildRank::Leader | GuildRank::Officer, _) if roll < 70 => {
                let c = self.pick_known(client, |c| {
                    !g.members.iter().any(|(m, _, _)| m.character == c.character)
                })?;
                Some(ClientSocial::GuildInvite { name: c.name })
            }
            _ => None,
        }
    }
}
