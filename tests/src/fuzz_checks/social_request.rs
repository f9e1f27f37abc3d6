//! Social requests read from script bytes, shared by the social target and
//! the node target: every `ClientSocial` kind, with text that is honest,
//! oversized, hidden-character laden or arbitrary bytes, names of characters
//! that are here (in any case) or made up, guild names that look alike, and
//! ids that exist or do not.

use super::script::{Script, ScriptWriter};
use game_core::ids::{CharacterId, GuildId};
use game_core::protocol::{ChatChannel, ClientSocial, GuildRank};

/// Character names the scripts play (the social target creates these, the
/// node target's clients create the first three), some in another case.
pub const NAMES: [&str; 8] = ["Ada", "Bob", "Cyd", "Dee", "Eve", "ADA", "bob ", "Nobody"];

/// Guild names: valid, look-alikes of the first (by case, digits, `rn`/`m`,
/// spaces), and invalid ones (another script, too short, double space,
/// control and zero-width characters).
pub const GUILD_NAMES: [&str; 12] = [
    "Night Watch",
    "N1ght Watch",
    "NIGHT VVATCH",
    "Nightwatch",
    "Iron Mill",
    "lron Mi11",
    "Night W\u{430}tch",
    "ab",
    "Night  Watch",
    "Night\tWatch",
    "Night\u{200B}Watch",
    "Rnoon Guild",
];

/// Lines that check_text must refuse, or take: control characters, bidi
/// overrides, zero-width and soft hyphens, blank, emoji with joiners.
pub const TEXTS: [&str; 8] = [
    "hello there",
    "evil\u{202E}txt.exe",
    "zero\u{200B}width",
    "bell\u{7}",
    "   ",
    "",
    "family \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
    "soft\u{00AD}hyphen",
];

/// `[kind: u8] [a: u8] [b: u8] [len: u8] [bytes]`: `kind` % 19 is the
/// request's [`ClientSocial::kind`]; `a` and `b` pick its fields (see
/// [`read`]); the bytes are its text when `a` says so.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SocialBytes {
    pub kind: u8,
    pub a: u8,
    pub b: u8,
    pub bytes: Vec<u8>,
}

impl SocialBytes {
    pub fn read(script: &mut Script<'_>) -> SocialBytes {
        let (kind, a, b) = (script.u8(), script.u8(), script.u8());
        let n = script.u8() as usize;
        SocialBytes {
            kind,
            a,
            b,
            bytes: script.bytes(n).to_vec(),
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        let n = u8::try_from(self.bytes.len()).expect("at most 255 bytes a request");
        w.u8(self.kind).u8(self.a).u8(self.b).u8(n).raw(&self.bytes);
    }

    /// The request; `ids` are characters the script knows of (any other id
    /// is made up from `b`), `guilds` guilds it heard of.
    pub fn request(&self, ids: &[CharacterId], guilds: &[GuildId]) -> ClientSocial {
        let character = || match ids.len() {
            n if n > 0 && self.b < 0xC0 => ids[self.b as usize % n],
            _ => CharacterId(self.b as u64),
        };
        let accept = self.a & 1 == 0;
        match self.kind % 19 {
            0 => ClientSocial::Chat {
                channel: ChatChannel::ALL[self.b as usize % ChatChannel::ALL.len()],
                text: self.text(),
            },
            1 => ClientSocial::Whisper {
                to: self.name(self.b),
                text: self.text(),
            },
            2 => ClientSocial::Block {
                character: character(),
            },
            3 => ClientSocial::Unblock {
                character: character(),
            },
            4 => ClientSocial::FriendRequest {
                name: self.name(self.a),
            },
            5 => ClientSocial::FriendAnswer {
                from: character(),
                accept,
            },
            6 => ClientSocial::FriendRemove {
                character: character(),
            },
            7 => ClientSocial::PartyInvite {
                name: self.name(self.a),
            },
            8 => ClientSocial::PartyAnswer {
                from: character(),
                accept,
            },
            9 => ClientSocial::PartyLeave,
            10 => ClientSocial::PartyKick {
                character: character(),
            },
            11 => ClientSocial::PartyPromote {
                character: character(),
            },
            12 => ClientSocial::PartyMakeRaid,
            13 => ClientSocial::GuildCreate {
                name: match self.a {
                    0xF0.. => self.raw_text(),
                    a => GUILD_NAMES[a as usize % GUILD_NAMES.len()].into(),
                },
            },
            14 => ClientSocial::GuildInvite {
                name: self.name(self.a),
            },
            15 => ClientSocial::GuildAnswer {
                guild: match guilds.len() {
                    n if n > 0 && self.b < 0xC0 => guilds[self.b as usize % n],
                    _ => GuildId(self.b as u64),
                },
                accept,
            },
            16 => ClientSocial::GuildLeave,
            17 => ClientSocial::GuildKick {
                character: character(),
            },
            _ => ClientSocial::GuildSetRank {
                character: character(),
                rank: [GuildRank::Leader, GuildRank::Officer, GuildRank::Member]
                    [self.a as usize % 3],
            },
        }
    }

    /// A name: one of [`NAMES`], or (`pick` ≥ 0xE0) the bytes as text.
    fn name(&self, pick: u8) -> String {
        match pick {
            0xE0.. => self.raw_text(),
            p => NAMES[p as usize % NAMES.len()].into(),
        }
    }

    /// A line, by `a` % 4: the bytes as text, one of [`TEXTS`], the bytes
    /// repeated past any limit, or the bytes with a hidden character inside.
    fn text(&self) -> String {
        match self.a % 4 {
            0 => self.raw_text(),
            1 => TEXTS[(self.a / 4) as usize % TEXTS.len()].into(),
            2 => {
                let base = if self.bytes.is_empty() {
                    "x".to_string()
                } else {
                    self.raw_text()
                };
                base.repeat(1 + (self.a as usize / 4) * 8)
            }
            _ => {
                let mut t = self.raw_text();
                let hidden = ['\u{202E}', '\u{2066}', '\u{FEFF}', '\u{0}'];
                t.insert(0, hidden[(self.a / 4) as usize % hidden.len()]);
                t
            }
        }
    }

    fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}
