//! The social layer: chat channels, whispers, blocks, friends and presence,
//! parties and guilds, as one pure machine beside the zones.
//!
//! It knows characters by id and name and where each is (map and channel),
//! never a zone, a session or a connection: the node tells it who entered,
//! moved, dropped and left, hands it each request with its sender, and
//! carries out what it says: messages for characters ([`Social::drain`]),
//! changes for the store ([`Social::take_intent`]), and outcomes back
//! ([`Social::store_outcome`]). Exchanging only such values is what lets the
//! scale-out work move it to a server of its own behind the bus.
//!
//! | file | concern |
//! |---|---|
//! | `chat.rs` | text rules, rate limits, mutes, channels, whispers, system lines |
//! | `friends.rs` | friend requests and lists, blocks, presence |
//! | `party.rs` | invitations, members, leader, raid parties |
//! | `guild.rs` | founding, invitations, ranks, history, saves |
//! | `presence.rs` | who entered, moved, dropped and left; rooms by map and channel |
//! | `store.rs` | the changes asked of the store, and where each outcome goes |
//! | `names.rs` | guild names and their look-alike key |
//!
//! Ordering: every message for a character goes into one queue in the order
//! it was decided, and the node hands the queue to sessions in that order
//! at each tick, so one sender's lines reach each recipient in order.
//!
//! Bounds: every list has a configured cap (friends, blocks, pending requests
//! and invitations, party and guild sizes, history); rates are limited per
//! channel; store work waits in the node's bounded intent table.

mod chat;
#[cfg(test)]
mod disband_tests;
mod friends;
#[cfg(test)]
mod group_tests;
mod guild;
#[cfg(test)]
mod harness;
#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod model_tests;
mod names;
mod party;
mod presence;
mod store;
#[cfg(test)]
mod tests;

pub use chat::{check_text, Rate};
pub use names::{guild_name_key, validate_guild_name, GUILD_NAME_LEN};
use store::Pending;
pub use store::SocialToken;

use crate::ids::{CharacterId, GuildId, IdMap};
use crate::persist::Change;
use crate::protocol::{ClientSocial, Contact, ServerSocial, SocialRefusal, Whereabouts};
use crate::time::Instant;

/// A social record the store failed to load is asked for again this much later.
const LOAD_RETRY_S: u64 = 1;

/// A guild save that failed is tried again this much later.
const SAVE_RETRY_S: u64 = 1;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// The `[social]` table of the server's config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialConfig {
    /// The longest chat line, in bytes of UTF-8.
    pub max_chat_bytes: u16,
    /// Say reaches players who see the speaker within this many metres.
    pub say_radius_m: u16,
    /// Rates per channel: say, zone, party, guild, world, whisper.
    pub say: Rate,
    pub zone: Rate,
    pub party: Rate,
    pub guild: Rate,
    pub world: Rate,
    pub whisper: Rate,
    /// Everything else a client asks (invitations, requests, blocks).
    pub actions: Rate,
    pub max_friends: u16,
    pub max_blocked: u16,
    /// Friend requests waiting for one character's answer.
    pub max_friend_requests: u8,
    pub friend_request_ms: u32,
    pub party_invite_ms: u32,
    pub party_size: u8,
    pub raid_size: u8,
    pub guild_size: u16,
    /// Guild lines kept, and shown to members entering the world.
    pub guild_history: u16,
    /// A guild whose chat changed is saved at most this often (membership
    /// changes are saved at the next tick).
    pub guild_save_ms: u32,
    /// How often party members are sent each other's place and health.
    pub party_vitals_ms: u32,
}

impl Default for SocialConfig {
    fn default() -> Self {
        SocialConfig {
            max_chat_bytes: crate::protocol::DEFAULT_MAX_CHAT_BYTES as u16,
            say_radius_m: 30,
            say: Rate::new(1_000, 5),
            zone: Rate::new(3_000, 3),
            party: Rate::new(500, 5),
            guild: Rate::new(1_000, 5),
            world: Rate::new(30_000, 1),
            whisper: Rate::new(500, 5),
            actions: Rate::new(1_000, 5),
            max_friends: 200,
            max_blocked: 100,
            max_friend_requests: 8,
            friend_request_ms: 300_000,
            party_invite_ms: 30_000,
            party_size: 5,
            raid_size: 40,
            guild_size: 200,
            guild_history: 50,
            guild_save_ms: 10_000,
            party_vitals_ms: 500,
        }
    }
}

impl SocialConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_chat_bytes == 0 || self.max_chat_bytes > 1024 {
            return Err("max_chat_bytes must be 1..=1024".into());
        }
        if self.party_size < 2 || self.raid_size < self.party_size {
            return Err("party_size must be at least 2 and raid_size at least party_size".into());
        }
        if self.guild_size < 1 || self.max_friend_requests == 0 {
            return Err("guild_size and max_friend_requests must be positive".into());
        }
        if self.party_vitals_ms == 0 || self.party_invite_ms == 0 || self.friend_request_ms == 0 {
            return Err("social timings must be positive".into());
        }
        for r in [
            self.say,
            self.zone,
            self.party,
            self.guild,
            self.world,
            self.whisper,
            self.actions,
        ] {
            r.validate()?;
        }
        Ok(())
    }
}

/// One character known to the social layer: in the world, or in its grace
/// period after its connection dropped.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) at: Whereabouts,
    /// The room (map and channel) it talks to on the zone channel.
    room: u32,
    /// Its record arrived from the store: it hears and is heard.
    loaded: bool,
    /// Its connection is up (not in the grace period).
    connected: bool,
    /// Sorted by id.
    pub(crate) friends: Vec<Contact>,
    /// Sorted by id.
    pub(crate) blocked: Vec<Contact>,
    /// Friend requests waiting for its answer: who, until when.
    requests: Vec<(CharacterId, Instant)>,
    pub(crate) party: Option<u32>,
    /// A party invitation waiting for its answer: from whom, until when,
    /// and into which party (`None`: the one the inviter's first accepted
    /// invitation makes).
    party_invite: Option<Invite<Option<u32>>>,
    pub(crate) guild: Option<GuildId>,
    /// A guild invitation waiting for its answer: from whom, until when, into which.
    guild_invite: Option<Invite<GuildId>>,
    /// A guild founding or block change waits for the store.
    busy: bool,
    /// Friendships being added, waiting for the store: they count against
    /// `max_friends` until they land.
    friends_pending: u16,
    /// When each rate allows the next request (GCRA theoretical arrival).
    rates: [Instant; chat::RATES],
}

/// An invitation waiting for its answer: from whom, until when, into what.
pub(crate) type Invite<T> = (CharacterId, Instant, T);

/// Takes the invitation in `slot` if it is still good at `now` and `fits`
/// (who sent it, what it is for); otherwise leaves it and refuses `NoInvite`.
fn take_invite<T: Copy>(
    slot: &mut Option<Invite<T>>,
    now: Instant,
    fits: impl Fn(CharacterId, T) -> bool,
) -> Result<(CharacterId, T), SocialRefusal> {
    match *slot {
        Some((from, until, what)) if until > now && fits(from, what) => {
            *slot = None;
            Ok((from, what))
        }
        _ => Err(SocialRefusal::NoInvite),
    }
}

/// Whether `slot` holds a live invitation that `fits` does not describe:
/// one at a time, so a second is refused `TooManyInvites`.
fn invited_elsewhere<T: Copy>(
    slot: &Option<Invite<T>>,
    now: Instant,
    fits: impl Fn(CharacterId, T) -> bool,
) -> bool {
    slot.is_some_and(|(from, until, what)| until > now && !fits(from, what))
}

impl Member {
    pub(crate) fn blocks(&self, who: CharacterId) -> bool {
        self.blocked
            .binary_search_by_key(&who, |c| c.character)
            .is_ok()
    }

    pub(crate) fn is_friend(&self, who: CharacterId) -> bool {
        self.friends
            .binary_search_by_key(&who, |c| c.character)
            .is_ok()
    }

    fn contact(&self, character: CharacterId) -> Contact {
        Contact {
            character,
            name: self.name.clone(),
        }
    }
}

/// Counters, for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocialStats {
    /// Lines accepted, by [`ChatChannel`] (index in `ChatChannel::ALL`).
    pub lines: [u64; 7],
    /// Copies of messages handed to the node for characters.
    pub deliveries: u64,
    /// Refused requests, by [`SocialRefusal::label`].
    pub refusals: BTreeMap<&'static str, u64>,
    pub friendships_made: u64,
    pub parties_formed: u64,
    pub guilds_founded: u64,
    /// Store changes that failed or timed out (each is retried or refused).
    pub store_failures: u64,
}

/// What goes out: messages, each once, and who gets a copy of which.
#[derive(Debug, Default)]
pub struct Deliveries {
    /// Each message, and whether a slow client may lose it (chat lines).
    pub messages: Vec<(ServerSocial, bool)>,
    /// (recipient, index into `messages`), in the order decided.
    pub to: Vec<(CharacterId, u32)>,
}

impl Deliveries {
    pub fn is_empty(&self) -> bool {
        self.to.is_empty()
    }

    pub fn clear(&mut self) {
        self.messages.clear();
        self.to.clear();
    }
}

/// The social layer of one server.
#[derive(Debug)]
pub struct Social {
    config: SocialConfig,
    members: IdMap<CharacterId, Member>,
    /// Loaded, connected members by [`crate::auth::name_key`] of their name.
    by_name: BTreeMap<String, CharacterId>,
    /// Rooms by map and channel, and their loaded members.
    room_ids: BTreeMap<String, BTreeMap<u16, u32>>,
    rooms: Vec<Vec<CharacterId>>,
    parties: party::Parties,
    guilds: guild::Guilds,
    /// Characters the operator muted, until when (kept across logins).
    mutes: BTreeMap<CharacterId, Instant>,
    pending: BTreeMap<SocialToken, Pending>,
    /// Store changes asked for, first asked first.
    intents: VecDeque<(SocialToken, Change)>,
    next_token: u64,
    /// Characters whose record must be loaded again, and from when (a
    /// store that failed is asked again a second later, not every tick).
    to_load: Vec<(CharacterId, Instant)>,
    out: Deliveries,
    /// Reused for each message's recipients.
    scratch: Vec<CharacterId>,
    stats: SocialStats,
}

impl Social {
    pub fn new(config: SocialConfig) -> Self {
        Social {
            config,
            members: IdMap::default(),
            by_name: BTreeMap::new(),
            room_ids: BTreeMap::new(),
            rooms: Vec::new(),
            parties: party::Parties::default(),
            guilds: guild::Guilds::default(),
            mutes: BTreeMap::new(),
            pending: BTreeMap::new(),
            intents: VecDeque::new(),
            next_token: 0,
            to_load: Vec::new(),
            out: Deliveries::default(),
            scratch: Vec::new(),
            stats: SocialStats::default(),
        }
    }

    pub fn config(&self) -> &SocialConfig {
        &self.config
    }

    pub fn stats(&self) -> &SocialStats {
        &self.stats
    }

    /// Characters known (in the world or in their grace period).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `character` is online for the social layer: loaded and
    /// connected, so whispers and presence reach it.
    pub fn is_online(&self, character: CharacterId) -> bool {
        self.members
            .get(&character)
            .is_some_and(|m| m.loaded && m.connected)
    }

    /// Whether `by` blocks `whom` (both loaded).
    pub fn blocks(&self, by: CharacterId, whom: CharacterId) -> bool {
        self.members.get(&by).is_some_and(|m| m.blocks(whom))
    }

    /// The party `character` is in: its leader and members in order.
    pub fn party_of(&self, character: CharacterId) -> Option<(CharacterId, &[CharacterId])> {
        let p = self.parties.get(self.members.get(&character)?.party?)?;
        Some((p.leader, &p.members))
    }

    /// The guild `character` is in, and its rank there.
    pub fn guild_of(
        &self,
        character: CharacterId,
    ) -> Option<(GuildId, crate::protocol::GuildRank)> {
        let id = self.members.get(&character)?.guild?;
        let rank = self.guilds.get(id)?.rank_of(character)?;
        Some((id, rank))
    }

    /// Friends of `character`, by id.
    pub fn friends_of(&self, character: CharacterId) -> impl Iterator<Item = CharacterId> + '_ {
        self.members
            .get(&character)
            .into_iter()
            .flat_map(|m| m.friends.iter().map(|c| c.character))
    }

    /// The bytes of state this layer holds per member beyond its lists'
    /// contents (the member entry, its map slot, its name index entry).
    pub fn member_overhead_bytes() -> usize {
        std::mem::size_of::<Member>()
            + std::mem::size_of::<(CharacterId, Member)>()
            + std::mem::size_of::<(String, CharacterId)>()
            + std::mem::size_of::<CharacterId>()
    }

    // ----- requests -----

    /// A request from `from`'s client. `near` is who hears it say something:
    /// the characters that see it within the say radius (the node asks the
    /// zone; it is only read for [`ChatChannel::Say`]).
    pub fn handle(
        &mut self,
        now: Instant,
        from: CharacterId,
        request: ClientSocial,
        near: &[CharacterId],
    ) {
        let kind = request.kind();
        let result = match self.members.get(&from) {
            None => return,
            Some(m) if !m.loaded => Err(SocialRefusal::Busy),
            Some(_) => self.dispatch(now, from, request, near),
        };
        if let Err(reason) = result {
            *self.stats.refusals.entry(reason.label()).or_default() += 1;
            self.send(
                from,
                ServerSocial::Refused {
                    request: kind,
                    reason,
                },
            );
        }
    }

    fn dispatch(
        &mut self,
        now: Instant,
        from: CharacterId,
        request: ClientSocial,
        near: &[CharacterId],
    ) -> Result<(), SocialRefusal> {
        match request {
            ClientSocial::Chat { channel, text } => self.chat(now, from, channel, text, near),
            ClientSocial::Whisper { to, text } => self.whisper(now, from, &to, text),
            other => {
                self.limit(now, from, chat::ACTIONS)?;
                match other {
                    ClientSocial::Chat { .. } | ClientSocial::Whisper { .. } => unreachable!(),
                    ClientSocial::Block { character } => self.block(from, character, true),
                    ClientSocial::Unblock { character } => self.block(from, character, false),
                    ClientSocial::FriendRequest { name } => self.friend_request(now, from, &name),
                    ClientSocial::FriendAnswer {
                        from: asker,
                        accept,
                    } => self.friend_answer(now, from, asker, accept),
                    ClientSocial::FriendRemove { character } => self.friend_remove(from, character),
                    ClientSocial::PartyInvite { name } => self.party_invite(now, from, &name),
                    ClientSocial::PartyAnswer {
                        from: inviter,
                        accept,
                    } => self.party_answer(now, from, inviter, accept),
                    ClientSocial::PartyLeave => {
                        if self.leave_party(from) {
                            Ok(())
                        } else {
                            Err(SocialRefusal::NotInParty)
                        }
                    }
                    ClientSocial::PartyKick { character } => self.party_kick(from, character),
                    ClientSocial::PartyPromote { character } => self.party_promote(from, character),
                    ClientSocial::PartyMakeRaid => self.party_make_raid(from),
                    ClientSocial::GuildCreate { name } => self.guild_create(from, name),
                    ClientSocial::GuildInvite { name } => self.guild_invite(now, from, &name),
                    ClientSocial::GuildAnswer { guild, accept } => {
                        self.guild_answer(now, from, guild, accept)
                    }
                    ClientSocial::GuildLeave => self.guild_leave(now, from),
                    ClientSocial::GuildKick { character } => self.guild_kick(now, from, character),
                    ClientSocial::GuildSetRank { character, rank } => {
                        self.guild_set_rank(now, from, character, rank)
                    }
                }
            }
        }
    }

    /// The online (loaded, connected) character named `name`.
    pub fn online_character(&self, name: &str) -> Option<CharacterId> {
        self.by_name.get(&crate::auth::name_key(name)).copied()
    }

    /// Saves now the guilds whose save is due (the node calls it when a
    /// player leaves, so a guild left empty here is saved at once).
    pub fn save_due(&mut self, now: Instant) {
        self.save_due_guilds(now);
    }

    /// The online (loaded, connected) character named `name`, unless it
    /// blocks `asker`: a blocker looks offline to whom it blocks.
    fn online_named(&self, name: &str, asker: CharacterId) -> Result<CharacterId, SocialRefusal> {
        let id = *self
            .by_name
            .get(&crate::auth::name_key(name))
            .ok_or(SocialRefusal::NotOnline)?;
        if id == asker {
            return Err(SocialRefusal::Yourself);
        }
        if self.blocks(id, asker) {
            return Err(SocialRefusal::NotOnline);
        }
        Ok(id)
    }

    /// `me` declined `inviter`'s request or invitation: it is told, if online.
    fn declined(&mut self, me: CharacterId, inviter: CharacterId) {
        if self.is_online(inviter) {
            let by = self.members[&me].contact(me);
            self.send(inviter, ServerSocial::Declined { by });
        }
    }

    // ----- time -----

    /// Once per world tick: retries loads, saves guilds that are due, and
    /// fills `vitals_due` with the parties whose members are due each other's
    /// vitals, as (party, member) pairs grouped by party (the node, which
    /// knows the zones, fills the vitals in and sends them).
    pub fn tick(&mut self, now: Instant, vitals_due: &mut Vec<(u32, CharacterId)>) {
        let mut retry = std::mem::take(&mut self.to_load);
        retry.retain(|&(character, at)| {
            if at > now {
                return true;
            }
            if self.members.contains_key(&character) {
                self.load(character);
            }
            false
        });
        self.to_load = retry;
        self.save_due_guilds(now);
        self.mutes.retain(|_, until| *until > now);
        self.parties
            .vitals_due(now, self.config.party_vitals_ms, vitals_due);
    }

    // ----- delivery -----

    /// Everything decided since the last call, for the node to send.
    pub fn drain(&mut self, into: &mut Deliveries) {
        into.clear();
        std::mem::swap(into, &mut self.out);
    }

    fn send(&mut self, to: CharacterId, msg: ServerSocial) {
        let i = self.out.messages.len() as u32;
        self.out.messages.push((msg, false));
        self.out.to.push((to, i));
        self.stats.deliveries += 1;
    }

    /// Queues one message for many; a chat line (`sheddable`) is the first
    /// thing a slow client loses.
    fn send_many(
        &mut self,
        msg: ServerSocial,
        sheddable: bool,
        to: impl IntoIterator<Item = CharacterId>,
    ) {
        let i = self.out.messages.len() as u32;
        self.out.messages.push((msg, sheddable));
        let before = self.out.to.len();
        self.out.to.extend(to.into_iter().map(|c| (c, i)));
        self.stats.deliveries += (self.out.to.len() - before) as u64;
    }
}
