//! The heckler: a hostile player abusing the social layer. Each trick is
//! one kind of bad request, tried in turn, one trick every [`PACE`] steps so
//! most are judged on their merits rather than by the action rate: lines
//! past the length limit; lines with control characters, bidirectional
//! overrides or zero-width spaces; spam on every channel past its rate;
//! floods of party, guild and friend invitations to many names; whispers
//! to thousands of made-up names; guilds named in other scripts or as
//! ASCII look-alikes of guilds it has heard of; lines for a party or guild
//! it is not in; kicks and promotions it may not make; answers to
//! invitations it never got; lines on the system channel. It records the
//! typed refusals it gets, by request and reason. It walks about meanwhile.

use game_core::client::{Client, ClientEvent};
use game_core::ids::{CharacterId, GuildId};
use game_core::protocol::{
    ChatChannel, ClientSocial, GuildRank, ServerSocial, SocialRefusal, MAX_CLIENT_PAYLOAD,
};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use std::collections::BTreeMap;

/// Steps between two tricks (a step is 100 ms by default): the social
/// layer's action rate allows one request a second after a burst of five.
pub const PACE: u64 = 5;

/// Requests in one flood of invitations or of spam on a channel.
pub const FLOOD: u32 = 12;

/// Whispers to made-up names in one flood: thousands in a few minutes.
pub const WHISPER_FLOOD: u32 = 50;

/// Guild names it makes look-alikes of, besides those it hears of. When no
/// such guild exists its look-alike founds one, which it leaves at its next
/// [`Trick::NotInGuild`].
pub const FAMOUS_GUILDS: [&str; 2] = ["Night Watch", "Iron Mill"];

/// One kind of bad request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trick {
    Oversized,
    HiddenCharacters,
    Spam,
    SystemChannel,
    InviteFlood,
    WhisperStrangers,
    OddGuildName,
    LookAlikeGuild,
    NotInParty,
    NotInGuild,
    KickPromote,
    AnswerUninvited,
}

impl Trick {
    /// In the order tried. The invitation flood comes last: it spends the
    /// action rate, which the cycle's chat tricks then give time to refill,
    /// so the single actions that follow are judged on their merits.
    pub const ALL: [Trick; 12] = [
        Trick::Oversized,
        Trick::HiddenCharacters,
        Trick::Spam,
        Trick::SystemChannel,
        Trick::WhisperStrangers,
        Trick::NotInParty,
        Trick::NotInGuild,
        Trick::OddGuildName,
        Trick::LookAlikeGuild,
        Trick::KickPromote,
        Trick::AnswerUninvited,
        Trick::InviteFlood,
    ];

    /// The reasons this trick may be refused for: the one it earns, first,
    /// and the rate limit, which any request may meet first.
    pub fn expected(self) -> &'static [SocialRefusal] {
        use SocialRefusal::*;
        match self {
            Trick::Oversized => &[TooLong],
            Trick::HiddenCharacters => &[InvalidText],
            Trick::Spam => &[RateLimited, NotInParty, NotInGuild],
            Trick::SystemChannel => &[WrongChannel],
            Trick::InviteFlood => &[NotOnline, NotInGuild, RateLimited, TooManyInvites],
            Trick::WhisperStrangers => &[NotOnline, RateLimited],
            Trick::OddGuildName => &[InvalidName, RateLimited],
            Trick::LookAlikeGuild => &[NameTaken, AlreadyInGuild, Busy, RateLimited],
            Trick::NotInParty => &[NotInParty],
            Trick::NotInGuild => &[NotInGuild],
            // In a guild a look-alike founded, it leads: kicking a stranger
            // is then refused as not a member.
            Trick::KickPromote => &[NotInParty, NotInGuild, NotMember, NotAllowed, RateLimited],
            Trick::AnswerUninvited => &[NoInvite, RateLimited],
        }
    }
}

/// What the heckler did and what it got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeckleTally {
    /// Requests sent, by trick.
    pub sent: BTreeMap<Trick, u64>,
    /// Refusals, by [`ClientSocial::kind`] and reason.
    pub refusals: BTreeMap<(u8, SocialRefusal), u64>,
    /// Its lines that went through (it hears its own `Say`, `Zone` and
    /// `World` lines): never any of the bad ones.
    pub lines_heard_back: u64,
}

impl HeckleTally {
    pub fn refused(&self) -> u64 {
        self.refusals.values().sum()
    }

    /// Refusals of requests of `kind` for `reason`.
    pub fn refused_for(&self, kind: u8, reason: SocialRefusal) -> u64 {
        self.refusals.get(&(kind, reason)).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub struct Heckler {
    /// Its own character, once in the world.
    me: Option<CharacterId>,
    steps: u64,
    next: usize,
    /// Made-up names whispered to so far (each is new).
    strangers: u64,
    /// Names of characters it heard, to invite.
    heard: Vec<String>,
    /// Guild names it heard of, to imitate.
    guilds: Vec<String>,
    pub tally: HeckleTally,
}

impl Heckler {
    pub fn on_event(&mut self, e: &ClientEvent) {
        let msg = match e {
            ClientEvent::EnteredWorld { character, .. } => {
                self.me = Some(character.id);
                return;
            }
            ClientEvent::Social(msg) => msg,
            _ => return,
        };
        match msg {
            ServerSocial::Refused { request, reason } => {
                *self.tally.refusals.entry((*request, *reason)).or_default() += 1;
            }
            ServerSocial::Chat(line) => {
                if Some(line.from) == self.me {
                    self.tally.lines_heard_back += 1;
                } else if !line.from_name.is_empty()
                    && self.heard.len() < 64
                    && !self.heard.contains(&line.from_name)
                {
                    self.heard.push(line.from_name.clone());
                }
            }
            ServerSocial::GuildInvited { name, .. } => self.hear_guild(name),
            ServerSocial::Guild(Some(view)) => self.hear_guild(&view.name),
            _ => {}
        }
    }

    fn hear_guild(&mut self, name: &str) {
        if self.guilds.len() < 16 && !self.guilds.iter().any(|g| g == name) {
            self.guilds.push(name.to_owned());
        }
    }

    /// One step: every [`PACE`]th, the next trick.
    pub fn step(&mut self, client: &mut Client, rng: &mut ChaCha8Rng) {
        self.steps += 1;
        if self.steps % PACE != 0 || !client.social().loaded {
            return;
        }
        let trick = Trick::ALL[self.next % Trick::ALL.len()];
        self.next += 1;
        let requests = self.requests(trick, client, rng);
        *self.tally.sent.entry(trick).or_default() += requests.len() as u64;
        for r in requests {
            client.social_request(r);
        }
    }

    fn requests(
        &mut self,
        trick: Trick,
        client: &Client,
        rng: &mut ChaCha8Rng,
    ) -> Vec<ClientSocial> {
        let chat = |channel, text: String| ClientSocial::Chat { channel, text };
        let stranger = CharacterId(1_000_000 + rng.next_u64() % 1_000_000);
        // Which of a trick's variants, turn by turn.
        let turn = self.next / Trick::ALL.len();
        match trick {
            Trick::Oversized => {
                // Past any server's chat limit (1,024 at most), within the
                // largest frame a client may send.
                let room = MAX_CLIENT_PAYLOAD as usize - 1_025 - 16;
                let len = 1_025 + rng.next_u32() as usize % room;
                vec![chat(ChatChannel::Say, "A".repeat(len))]
            }
            Trick::HiddenCharacters => {
                let bad = [
                    "ring\u{7}bell",
                    "click me\u{202E}exe.txt",
                    "zero\u{200B}width",
                    "\u{2066}isolated\u{2069}",
                    "null\u{0}byte",
                    "\u{FEFF}",
                    "   ",
                ];
                vec![chat(
                    ChatChannel::Zone,
                    bad[rng.next_u32() as usize % bad.len()].into(),
                )]
            }
            Trick::Spam => {
                // Past the rate on every channel a client may use.
                let channels = [
                    ChatChannel::Say,
                    ChatChannel::Zone,
                    ChatChannel::Party,
                    ChatChannel::Guild,
                    ChatChannel::World,
                ];
                let channel = channels[turn % channels.len()];
                (0..FLOOD)
                    .map(|i| chat(channel, format!("spam {i}")))
                    .collect()
            }
            Trick::SystemChannel => vec![
                chat(ChatChannel::System, "I am the server".into()),
                chat(ChatChannel::Whisper, "whisper by chat".into()),
            ],
            Trick::InviteFlood => (0..FLOOD)
                .map(|i| {
                    // Made-up names first, then players it heard.
                    let name = match self.heard.get(i.saturating_sub(FLOOD / 2) as usize) {
                        Some(n) if i >= FLOOD / 2 => n.clone(),
                        _ => self.made_up_name(),
                    };
                    match (i as usize + turn) % 3 {
                        0 => ClientSocial::PartyInvite { name },
                        1 => ClientSocial::FriendRequest { name },
                        _ => ClientSocial::GuildInvite { name },
                    }
                })
                .collect(),
            Trick::WhisperStrangers => (0..WHISPER_FLOOD)
                .map(|_| ClientSocial::Whisper {
                    to: self.made_up_name(),
                    text: "hello stranger".into(),
                })
                .collect(),
            Trick::OddGuildName => {
                let odd = [
                    "Night W\u{430}tch",
                    "Ni\u{200B}ght Watch",
                    "\u{202E}hctaW thgiN",
                    "Nuit Blanch\u{e9}",
                    "x",
                    "Night  Watch",
                    " Night Watch",
                    "Night Watch of the Very Long Name",
                ];
                vec![ClientSocial::GuildCreate {
                    name: odd[rng.next_u32() as usize % odd.len()].into(),
                }]
            }
            Trick::LookAlikeGuild => {
                let base = self
                    .guilds
                    .iter()
                    .map(String::as_str)
                    .chain(FAMOUS_GUILDS)
                    .nth(rng.next_u32() as usize % (self.guilds.len() + FAMOUS_GUILDS.len()))
                    .unwrap_or(FAMOUS_GUILDS[0]);
                vec![ClientSocial::GuildCreate {
                    name: look_alike(base, rng.next_u32()),
                }]
            }
            Trick::NotInParty if client.social().party.is_none() => {
                vec![chat(ChatChannel::Party, "party?".into())]
            }
            Trick::NotInGuild if client.social().guild.is_none() => vec![
                chat(ChatChannel::Guild, "guild?".into()),
                ClientSocial::GuildLeave,
            ],
            // A look-alike of a name nobody had founded it a guild: out,
            // to be refused again.
            Trick::NotInGuild => vec![ClientSocial::GuildLeave],
            Trick::NotInParty => Vec::new(),
            Trick::KickPromote => vec![match turn % 5 {
                0 => ClientSocial::PartyKick {
                    character: stranger,
                },
                1 => ClientSocial::PartyPromote {
                    character: stranger,
                },
                2 => ClientSocial::PartyMakeRaid,
                3 => ClientSocial::GuildKick {
                    character: stranger,
                },
                _ => ClientSocial::GuildSetRank {
                    character: stranger,
                    rank: GuildRank::Leader,
                },
            }],
            Trick::AnswerUninvited => vec![match turn % 3 {
                0 => ClientSocial::PartyAnswer {
                    from: stranger,
                    accept: true,
                },
                1 => ClientSocial::FriendAnswer {
                    from: stranger,
                    accept: true,
                },
                _ => ClientSocial::GuildAnswer {
                    guild: GuildId(1 + rng.next_u64() % 1_000),
                    accept: true,
                },
            }],
        }
    }

    fn made_up_name(&mut self) -> String {
        self.strangers += 1;
        format!("Nobody{}", self.strangers)
    }
}

/// An ASCII name that looks like `name` to a reader: case changed, `o` as
/// `0`, `l` or `i` as `1`, `s` as `5`, `m` as `rn`, `w` as `vv`, or the
/// spaces dropped (the store's look-alike key folds them all).
pub fn look_alike(name: &str, pick: u32) -> String {
    let swapped = match pick % 6 {
        0 => name.to_ascii_uppercase(),
        1 => name.replace(['o', 'O'], "0"),
        2 => name.replace(['i', 'l'], "1"),
        3 => name.replace('s', "5").replace('m', "rn"),
        4 => name.replace('w', "vv").replace('W', "VV"),
        _ => name.replace(' ', ""),
    };
    if swapped == name {
        name.to_ascii_lowercase()
    } else {
        swapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Lab, INSTANT};
    use game_core::node::NodeConfig;
    use game_core::protocol::ChatLine;
    use game_core::rng::{self, StreamKind};
    use game_core::time::{Duration, Instant};
    use SocialRefusal::*;

    fn secs(s: u64) -> Instant {
        Instant::from_micros(s * 1_000_000)
    }

    /// Lines peer `i` heard, and refusals it got.
    fn heard(lab: &Lab, i: usize) -> (Vec<ChatLine>, Vec<SocialRefusal>) {
        let (mut lines, mut refusals) = (Vec::new(), Vec::new());
        for (_, e) in &lab.peers[i].events {
            match e {
                ClientEvent::Social(ServerSocial::Chat(l)) => lines.push(l.clone()),
                ClientEvent::Social(ServerSocial::Refused { reason, .. }) => refusals.push(*reason),
                _ => {}
            }
        }
        (lines, refusals)
    }

    /// A heckler among two honest players (one leads the guild "Night
    /// Watch") for a minute: every trick is refused for its reason, none of
    /// its bad lines reaches anyone, and the honest players' lines and
    /// whispers all arrive, with no refusal.
    #[test]
    fn a_heckler_is_refused_for_each_trick_and_honest_players_are_unharmed() {
        let mut lab = Lab::new(NodeConfig::default(), 11);
        let ada = lab.join("ada", INSTANT);
        let bob = lab.join("bob", INSTANT);
        let heckler = lab.join("heckler", INSTANT);
        lab.run(secs(2), Duration::from_millis(100), |_| {});
        lab.peers[ada]
            .client
            .social_request(ClientSocial::GuildCreate {
                name: "Night Watch".into(),
            });
        lab.run(secs(3), Duration::from_millis(100), |_| {});
        assert!(
            lab.peers[ada].client.social().guild.is_some(),
            "ada's guild"
        );

        let mut h = Heckler::default();
        let mut rng = rng::stream(11, StreamKind::Bot, 99);
        let (mut said, mut whispered, mut step) = (0u64, 0u64, 0u64);
        let mut seen = 0;
        lab.run(secs(63), Duration::from_millis(100), |lab| {
            step += 1;
            let events = &lab.peers[heckler].events;
            for (_, e) in &events[seen..] {
                h.on_event(e);
            }
            seen = events.len();
            h.step(&mut lab.peers[heckler].client, &mut rng);
            // Honest chat, within every rate: a zone line every 3 s, a
            // whisper every 2 s.
            if step % 30 == 0 {
                said += 1;
                lab.peers[ada].client.social_request(ClientSocial::Chat {
                    channel: ChatChannel::Zone,
                    text: format!("line {said}"),
                });
            }
            if step % 20 == 0 {
                whispered += 1;
                lab.peers[bob].client.social_request(ClientSocial::Whisper {
                    to: "ada".into(),
                    text: format!("psst {whispered}"),
                });
            }
        });
        lab.run(secs(64), Duration::from_millis(100), |_| {});

        for trick in Trick::ALL {
            assert!(
                h.tally.sent.get(&trick).copied().unwrap_or(0) > 0,
                "{trick:?} never tried"
            );
        }
        let t = &h.tally;
        let expected: [(u8, SocialRefusal); 19] = [
            (0, TooLong),
            (0, InvalidText),
            (0, RateLimited),
            (0, WrongChannel),
            (0, NotInParty),
            (0, NotInGuild),
            (1, NotOnline),
            (4, NotOnline),
            (5, NoInvite),
            (7, NotOnline),
            (8, NoInvite),
            (10, NotInParty),
            (11, NotInParty),
            (12, NotInParty),
            (13, InvalidName),
            (13, NameTaken),
            (14, NotInGuild),
            (15, NoInvite),
            (16, NotInGuild),
        ];
        for (kind, reason) in expected {
            assert!(
                t.refused_for(kind, reason) > 0,
                "request {kind} never refused as {reason:?}: {:?}",
                t.refusals
            );
        }
        for kind in [17, 18] {
            assert!(t.refused_for(kind, NotInGuild) + t.refused_for(kind, NotMember) > 0);
        }
        assert!(t.refused_for(1, RateLimited) > 0, "whispers past the rate");
        // Every refusal is one its tricks expect.
        let allowed: Vec<SocialRefusal> = Trick::ALL
            .iter()
            .flat_map(|t| t.expected())
            .copied()
            .collect();
        for &(_, reason) in t.refusals.keys() {
            assert!(allowed.contains(&reason), "{reason:?}");
        }
        let whispers = t.sent[&Trick::WhisperStrangers];
        assert!(whispers >= 400, "{whispers} whispers to made-up names");

        // Honest players: every line and whisper arrived, nothing refused,
        // and all they heard of the heckler is its spam within the rate.
        let (ada_heard, ada_refused) = heard(&lab, ada);
        let (bob_heard, bob_refused) = heard(&lab, bob);
        assert!(
            ada_refused.is_empty() && bob_refused.is_empty(),
            "{ada_refused:?} {bob_refused:?}"
        );
        let from_ada = bob_heard.iter().filter(|l| l.from_name == "ada").count() as u64;
        assert_eq!(from_ada, said, "bob heard ada's zone lines");
        let from_bob = ada_heard
            .iter()
            .filter(|l| l.channel == ChatChannel::Whisper && l.from_name == "bob")
            .count() as u64;
        assert_eq!(from_bob, whispered, "ada heard bob's whispers");
        for l in ada_heard.iter().chain(&bob_heard) {
            if l.from_name == "heckler" {
                assert!(l.text.starts_with("spam "), "a bad line got through: {l:?}");
            }
        }
        assert!(lab.peers[ada]
            .client
            .social()
            .guild
            .as_ref()
            .is_some_and(|g| g.name == "Night Watch"));
    }

    #[test]
    fn look_alikes_share_the_guild_name_key() {
        let key = game_core::social::guild_name_key;
        for pick in 0..6 {
            let name = look_alike("Night Watch", pick);
            assert_ne!(name, "Night Watch");
            assert_eq!(key(&name), key("Night Watch"), "{name}");
        }
    }
}
