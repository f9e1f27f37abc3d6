//! The social layer driven directly: several characters enter, move, drop,
//! come back and leave; they send any request ([`SocialBytes`]); the store
//! answers its changes at once, late, failing, twice or never; time passes;
//! the operator mutes and speaks. After every step the check reads what the
//! layer decided and its state.

use super::script::{Script, ScriptWriter};
use super::social_request::{SocialBytes, NAMES};
use game_core::ids::{AccountId, CharacterId, GuildId, IntentId};
use game_core::math::Vec2;
use game_core::persist::{
    AccountRef, Change, CharacterState, Intent, MemoryStore, Place, Reply, StoreError,
};
use game_core::protocol::{ChatChannel, GuildRank, ServerSocial, Whereabouts};
use game_core::social::{Deliveries, Rate, Social, SocialConfig, SocialToken};
use game_core::time::{Duration, Instant};
use std::collections::{BTreeMap, BTreeSet};

/// Characters a script plays: the first five of [`NAMES`].
pub const CHARACTERS: u8 = 5;

/// Small caps and short times, so a short script meets every one of them.
pub fn config() -> SocialConfig {
    SocialConfig {
        max_chat_bytes: 32,
        say: Rate::new(1_000, 3),
        zone: Rate::new(2_000, 2),
        party: Rate::new(500, 3),
        guild: Rate::new(1_000, 3),
        world: Rate::new(10_000, 1),
        whisper: Rate::new(500, 3),
        actions: Rate::new(200, 8),
        max_friends: 2,
        max_blocked: 2,
        max_friend_requests: 2,
        friend_request_ms: 3_000,
        party_invite_ms: 2_000,
        party_size: 3,
        raid_size: 4,
        guild_size: 3,
        guild_history: 4,
        guild_save_ms: 1_000,
        party_vitals_ms: 500,
        ..SocialConfig::default()
    }
}

/// What a social script does: an opcode byte (modulo [`SocialOp::COUNT`])
/// and its operands; `who` is one byte, modulo [`CHARACTERS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocialOp {
    /// `[who] [place: u8]`: enters the world (or comes back) at `place` % 4
    /// (two maps, two channels each).
    Enter { who: u8, place: u8 },
    /// `[who] [place: u8]`: moves to another map or channel.
    Move { who: u8, place: u8 },
    /// `[who]`: its connection drops (the grace period).
    Detach { who: u8 },
    /// `[who]`: its connection comes back.
    Reattach { who: u8 },
    /// `[who]`: leaves for good.
    Leave { who: u8 },
    /// `[who] [request: SocialBytes] [near: u8]`: a request from a
    /// connected character; `near` is a bit set of who hears it say.
    Request {
        who: u8,
        request: SocialBytes,
        near: u8,
    },
    /// `[which: u8] [how: u8]`: the store answers the `which`-th held change,
    /// `how` % 4: done, `Unavailable`, done twice, or never (forgotten).
    Answer { which: u8, how: u8 },
    /// `[hold: u8]`: from now on changes are held (odd) or done at once.
    Hold { hold: bool },
    /// `[ms: u16]`: time passes, then the tick.
    Advance { ms: u16 },
    /// `[who] [ms: u16]`: the operator mutes it.
    Mute { who: u8, ms: u16 },
    /// `[len: u8] [bytes]`: the operator says it on the system channel.
    System { bytes: Vec<u8> },
    /// `[ahead: u8]`: an outcome for a token never issued.
    AnswerUnknown { ahead: u8 },
}

impl SocialOp {
    pub const COUNT: u8 = 12;

    fn code(&self) -> u8 {
        match self {
            SocialOp::Enter { .. } => 0,
            SocialOp::Move { .. } => 1,
            SocialOp::Detach { .. } => 2,
            SocialOp::Reattach { .. } => 3,
            SocialOp::Leave { .. } => 4,
            SocialOp::Request { .. } => 5,
            SocialOp::Answer { .. } => 6,
            SocialOp::Hold { .. } => 7,
            SocialOp::Advance { .. } => 8,
            SocialOp::Mute { .. } => 9,
            SocialOp::System { .. } => 10,
            SocialOp::AnswerUnknown { .. } => 11,
        }
    }

    pub fn read(script: &mut Script<'_>) -> SocialOp {
        let who = |script: &mut Script<'_>| script.u8() % CHARACTERS;
        match script.u8() % Self::COUNT {
            0 => SocialOp::Enter {
                who: who(script),
                place: script.u8(),
            },
            1 => SocialOp::Move {
                who: who(script),
                place: script.u8(),
            },
            2 => SocialOp::Detach { who: who(script) },
            3 => SocialOp::Reattach { who: who(script) },
            4 => SocialOp::Leave { who: who(script) },
            5 => SocialOp::Request {
                who: who(script),
                request: SocialBytes::read(script),
                near: script.u8(),
            },
            6 => SocialOp::Answer {
                which: script.u8(),
                how: script.u8(),
            },
            7 => SocialOp::Hold {
                hold: script.u8() & 1 == 1,
            },
            8 => SocialOp::Advance { ms: script.u16() },
            9 => SocialOp::Mute {
                who: who(script),
                ms: script.u16(),
            },
            10 => {
                let n = script.u8() as usize;
                SocialOp::System {
                    bytes: script.bytes(n).to_vec(),
                }
            }
            _ => SocialOp::AnswerUnknown { ahead: script.u8() },
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.code());
        match self {
            SocialOp::Enter { who, place } | SocialOp::Move { who, place } => {
                w.u8(*who).u8(*place);
            }
            SocialOp::Detach { who } | SocialOp::Reattach { who } | SocialOp::Leave { who } => {
                w.u8(*who);
            }
            SocialOp::Request { who, request, near } => {
                w.u8(*who);
                request.write(w);
                w.u8(*near);
            }
            SocialOp::Answer { which, how } => {
                w.u8(*which).u8(*how);
            }
            SocialOp::Hold { hold } => {
                w.u8(*hold as u8);
            }
            SocialOp::Advance { ms } => {
                w.u16(*ms);
            }
            SocialOp::Mute { who, ms } => {
                w.u8(*who).u16(*ms);
            }
            SocialOp::System { bytes } => {
                let n = u8::try_from(bytes.len()).expect("at most 255 bytes");
                w.u8(n).raw(bytes);
            }
            SocialOp::AnswerUnknown { ahead } => {
                w.u8(*ahead);
            }
        }
    }
}

fn place(p: u8) -> Whereabouts {
    Whereabouts {
        map: ["meadow", "forest"][p as usize % 2].into(),
        channel: (p as u16 / 2) % 2,
    }
}

struct Harness {
    social: Social,
    config: SocialConfig,
    store: MemoryStore,
    now: Instant,
    ids: Vec<CharacterId>,
    /// Characters the layer knows (entered, not left), and whether each is
    /// connected.
    known: BTreeMap<CharacterId, bool>,
    held: Vec<(SocialToken, Change)>,
    hold: bool,
    last_token: u64,
    guilds_heard: BTreeSet<GuildId>,
    /// Friend requests each character was told of and has not answered,
    /// until when they last at least (a renewed request is not told again).
    requests: BTreeMap<CharacterId, BTreeMap<CharacterId, Instant>>,
    deliveries: Deliveries,
    delivered: u64,
}

/// Runs a social script (see [`SocialOp`]) and checks after every step: no
/// panic; every copy goes to a character the layer knows, at most once per
/// message; a chat line reaches only online characters, never one that
/// blocks its speaker; friends, blocks, pending friend requests, party and
/// guild sizes stay within their caps; every party has two members or more,
/// its leader among them, and each member's party is that party; a guild has
/// one leader; the layer counts every copy it hands out.
pub fn social(data: &[u8]) {
    let mut script = Script::new(data);
    let mut h = Harness::new();
    while !script.done() {
        h.apply(SocialOp::read(&mut script));
        h.carry();
        h.check();
    }
    // The store comes back and answers everything; what is still due runs.
    h.hold = false;
    for (token, change) in std::mem::take(&mut h.held) {
        h.answer(token, change, 0);
    }
    h.carry();
    h.now += Duration::from_millis(10_000);
    h.social.tick(h.now, &mut Vec::new());
    h.carry();
    h.check();
}

impl Harness {
    fn new() -> Harness {
        let mut store = MemoryStore::default();
        let open = Intent {
            id: IntentId(1),
            change: Change::OpenAccount {
                account: AccountRef::Dev("fuzz".into()),
            },
        };
        let Ok(Reply::Account { account, .. }) = store.apply(&open).result else {
            panic!("a dev account");
        };
        let ids = (0..CHARACTERS)
            .map(|i| create(&mut store, account, i))
            .collect();
        let config = config();
        config.validate().expect("a valid social config");
        Harness {
            social: Social::new(config.clone()),
            config,
            store,
            now: Instant::ZERO,
            ids,
            known: BTreeMap::new(),
            held: Vec::new(),
            hold: false,
            last_token: 0,
            guilds_heard: BTreeSet::new(),
            requests: BTreeMap::new(),
            deliveries: Deliveries::default(),
            delivered: 0,
        }
    }

    fn apply(&mut self, op: SocialOp) {
        let now = self.now;
        match op {
            SocialOp::Enter { who, place: p } => {
                let c = self.ids[who as usize];
                self.social.entered(c, NAMES[who as usize], place(p));
                self.known.insert(c, true);
            }
            SocialOp::Move { who, place: p } => self.social.moved(self.ids[who as usize], place(p)),
            SocialOp::Detach { who } => {
                let c = self.ids[who as usize];
                self.social.detached(c);
                if let Some(connected) = self.known.get_mut(&c) {
                    *connected = false;
                }
            }
            SocialOp::Reattach { who } => {
                let c = self.ids[who as usize];
                self.social.reattached(c);
                if let Some(connected) = self.known.get_mut(&c) {
                    *connected = true;
                }
            }
            SocialOp::Leave { who } => {
                let c = self.ids[who as usize];
                self.social.left(c);
                self.social.save_due(now);
                self.known.remove(&c);
                self.requests.remove(&c);
            }
            SocialOp::Request { who, request, near } => {
                let c = self.ids[who as usize];
                // Only a connected character's client can ask (as in the node).
                if self.known.get(&c) != Some(&true) {
                    return;
                }
                let guilds: Vec<GuildId> = self.guilds_heard.iter().copied().collect();
                let request = request.request(&self.ids, &guilds);
                if let game_core::protocol::ClientSocial::FriendAnswer { from, .. } = &request {
                    if let Some(r) = self.requests.get_mut(&c) {
                        r.remove(from);
                    }
                }
                let near: Vec<CharacterId> = (0..CHARACTERS)
                    .filter(|i| near & (1 << i) != 0)
                    .map(|i| self.ids[i as usize])
                    .collect();
                self.social.handle(now, c, request, &near);
            }
            SocialOp::Answer { which, how } => {
                if self.held.is_empty() {
                    return;
                }
                let i = which as usize % self.held.len();
                let (token, change) = self.held.remove(i);
                self.answer(token, change, how);
            }
            SocialOp::Hold { hold } => self.hold = hold,
            SocialOp::Advance { ms } => {
                self.now += Duration::from_millis(ms as u64);
                let mut due = Vec::new();
                self.social.tick(self.now, &mut due);
                for &(_, c) in &due {
                    assert!(self.known.contains_key(&c), "vitals due for {c}, not here");
                }
            }
            SocialOp::Mute { who, ms } => {
                let c = self.ids[who as usize];
                self.social
                    .mute(c, now + Duration::from_millis(ms as u64 * 10));
            }
            SocialOp::System { bytes } => self.social.system(&String::from_utf8_lossy(&bytes)),
            SocialOp::AnswerUnknown { ahead } => {
                let token = SocialToken(self.last_token + 1 + ahead as u64);
                self.social.store_outcome(now, token, Ok(Reply::Done));
            }
        }
    }

    /// The store's answer: `how` % 4: done, unavailable, done twice, never.
    fn answer(&mut self, token: SocialToken, change: Change, how: u8) {
        let intent = Intent {
            id: IntentId(1_000_000 + token.0),
            change,
        };
        match how % 4 {
            0 | 2 => {
                let outcome = self.store.apply(&intent);
                self.social
                    .store_outcome(self.now, token, outcome.result.clone());
                if how % 4 == 2 {
                    self.social.store_outcome(self.now, token, outcome.result);
                }
            }
            1 => self
                .social
                .store_outcome(self.now, token, Err(StoreError::Unavailable)),
            _ => {}
        }
    }

    /// Takes the layer's store changes (done at once unless held) and what
    /// it decided, checking each copy.
    fn carry(&mut self) {
        let mut rounds = 0;
        while let Some((token, change)) = self.social.take_intent() {
            rounds += 1;
            assert!(rounds < 10_000, "store changes never end");
            assert!(token.0 > self.last_token, "token {token:?} reused");
            self.last_token = token.0;
            if self.hold {
                self.held.push((token, change));
            } else {
                self.answer(token, change, 0);
            }
        }
        self.social.drain(&mut self.deliveries);
        self.check_deliveries();
    }

    fn check_deliveries(&mut self) {
        let out = &self.deliveries;
        let mut seen = BTreeSet::new();
        for &(to, i) in &out.to {
            self.delivered += 1;
            assert!(self.known.contains_key(&to), "a copy for {to}, not here");
            let (msg, _) = &out.messages[i as usize];
            assert!(seen.insert((to, i)), "{to} gets {msg:?} twice");
            match msg {
                ServerSocial::Chat(line) if line.channel != ChatChannel::System => {
                    assert!(self.social.is_online(to), "a line for {to}, offline");
                    assert!(
                        !self.social.blocks(to, line.from),
                        "{to} hears {} whom it blocks",
                        line.from
                    );
                    let max = self.config.max_chat_bytes as usize;
                    assert!(line.text.len() <= max, "a line past the limit");
                }
                ServerSocial::Blocked { blocked } => {
                    assert!(blocked.len() <= self.config.max_blocked as usize)
                }
                ServerSocial::Friends { friends } => {
                    assert!(friends.len() <= self.config.max_friends as usize)
                }
                ServerSocial::FriendRequested { from } => {
                    let until =
                        self.now + Duration::from_millis(self.config.friend_request_ms as u64);
                    let pending = self.requests.entry(to).or_default();
                    pending.retain(|_, t| *t > self.now);
                    pending.insert(from.character, until);
                    let cap = self.config.max_friend_requests as usize;
                    assert!(
                        pending.len() <= cap,
                        "{to}: {} friend requests",
                        pending.len()
                    );
                }
                ServerSocial::GuildInvited { guild, .. } => {
                    self.guilds_heard.insert(*guild);
                }
                ServerSocial::Guild(Some(view)) => {
                    self.guilds_heard.insert(view.guild);
                    assert!(view.members.len() <= self.config.guild_size as usize);
                    let leaders = view
                        .members
                        .iter()
                        .filter(|(_, r, _)| *r == GuildRank::Leader)
                        .count();
                    assert_eq!(leaders, 1, "guild {:?} with {leaders} leaders", view.guild);
                }
                ServerSocial::Party(Some(view)) => {
                    assert!(view.members.len() >= 2, "a party of one shown");
                    assert!(view.members.len() <= view.cap as usize);
                    assert!(view.members.iter().any(|(c, _)| c.character == view.leader));
                }
                _ => {}
            }
        }
        assert_eq!(
            self.social.stats().deliveries,
            self.delivered,
            "the layer's count of copies"
        );
    }

    fn check(&self) {
        let s = &self.social;
        assert_eq!(s.len(), self.known.len(), "characters known");
        let mut parties = BTreeSet::new();
        let mut guild_sizes: BTreeMap<GuildId, usize> = BTreeMap::new();
        for &c in self.known.keys() {
            assert!(s.friends_of(c).count() <= self.config.max_friends as usize);
            let blocked = self.ids.iter().filter(|&&o| s.blocks(c, o)).count();
            assert!(blocked <= self.config.max_blocked as usize);
            if let Some((leader, members)) = s.party_of(c) {
                assert!(members.len() >= 2, "{c} in a party of {}", members.len());
                assert!(members.len() <= self.config.raid_size as usize);
                assert!(members.contains(&c), "{c}'s party lacks it");
                assert!(members.contains(&leader), "{c}'s party's leader not in it");
                let distinct: BTreeSet<_> = members.iter().collect();
                assert_eq!(distinct.len(), members.len(), "a member twice");
                for &m in members {
                    assert!(self.known.contains_key(&m), "{m} in a party, not here");
                    assert_eq!(s.party_of(m), Some((leader, members)), "{m} elsewhere");
                }
                parties.insert(members.to_vec());
            }
            if let Some((g, _)) = s.guild_of(c) {
                *guild_sizes.entry(g).or_default() += 1;
            }
        }
        assert_eq!(s.party_count(), parties.len(), "parties in memory");
        for (g, n) in guild_sizes {
            assert!(n <= self.config.guild_size as usize, "{g:?} has {n}");
        }
    }
}

fn create(store: &mut MemoryStore, account: AccountId, i: u8) -> CharacterId {
    let intent = Intent {
        id: IntentId(2 + i as u64),
        change: Change::CreateCharacter {
            account,
            name: NAMES[i as usize].into(),
            state: CharacterState {
                place: Place {
                    map: "meadow".into(),
                    channel: 0,
                    pos: Vec2::default(),
                },
                level: 1,
                experience: 0,
            },
            max_characters: CHARACTERS,
        },
    };
    match store.apply(&intent).result {
        Ok(Reply::Characters(list)) => list.last().expect("the new character").id,
        other => panic!("creating {}: {other:?}", NAMES[i as usize]),
    }
}
