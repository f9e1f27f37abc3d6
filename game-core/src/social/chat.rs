//! Chat: what a line may hold, how often each channel may be used, operator
//! mutes, and who hears each channel.

use super::{Social, SocialRefusal};
use crate::ids::CharacterId;
use crate::protocol::{ChatChannel, ChatLine, Contact, ServerSocial};
use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};

/// Rate slots per member: one per client channel, and one for actions.
pub(super) const RATES: usize = 7;
const WHISPER: usize = 5;
pub(super) const ACTIONS: usize = 6;

/// At most `burst` requests at once, then one per `every_ms` (a generic cell
/// rate: one instant per member and channel, no timers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub every_ms: u32,
    pub burst: u16,
}

impl Rate {
    pub const fn new(every_ms: u32, burst: u16) -> Self {
        Rate { every_ms, burst }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.every_ms == 0 || self.burst == 0 {
            return Err("a rate needs every_ms and burst above 0".into());
        }
        Ok(())
    }

    /// Whether a request at `now` fits, given when the next one was due
    /// (`tat`); if so, moves `tat` on.
    fn admit(&self, tat: &mut Instant, now: Instant) -> bool {
        let every = Duration::from_millis(self.every_ms as u64);
        let next = (*tat).max(now) + every;
        let window = Duration::from_millis(self.every_ms as u64 * self.burst as u64);
        if next.saturating_since(now) > window {
            return false;
        }
        *tat = next;
        true
    }
}

/// Checks a chat line: at most `max` bytes, not blank, and free of control
/// and invisible formatting characters (bidirectional overrides, zero-width
/// spaces), which could hide or reorder what others read. Joiners used by
/// emoji and some scripts are allowed.
pub fn check_text(text: &str, max: usize) -> Result<(), SocialRefusal> {
    if text.len() > max {
        return Err(SocialRefusal::TooLong);
    }
    if text.trim().is_empty() || text.chars().any(hidden) {
        return Err(SocialRefusal::InvalidText);
    }
    Ok(())
}

fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

fn rate_slot(channel: ChatChannel) -> Option<usize> {
    Some(match channel {
        ChatChannel::Say => 0,
        ChatChannel::Zone => 1,
        ChatChannel::Party => 2,
        ChatChannel::Guild => 3,
        ChatChannel::World => 4,
        ChatChannel::Whisper | ChatChannel::System => return None,
    })
}

impl Social {
    /// Spends one request of `from`'s rate `slot`.
    pub(super) fn limit(
        &mut self,
        now: Instant,
        from: CharacterId,
        slot: usize,
    ) -> Result<(), SocialRefusal> {
        let c = &self.config;
        let rate = [
            c.say, c.zone, c.party, c.guild, c.world, c.whisper, c.actions,
        ][slot];
        let m = self.members.get_mut(&from).ok_or(SocialRefusal::Busy)?;
        if rate.admit(&mut m.rates[slot], now) {
            Ok(())
        } else {
            Err(SocialRefusal::RateLimited)
        }
    }

    /// Operator: `character` may not chat or whisper until `until`.
    pub fn mute(&mut self, character: CharacterId, until: Instant) {
        self.mutes.insert(character, until);
    }

    pub fn unmute(&mut self, character: CharacterId) {
        self.mutes.remove(&character);
    }

    /// Whether `character` is muted at `now`.
    pub fn is_muted(&self, now: Instant, character: CharacterId) -> bool {
        self.mutes.get(&character).is_some_and(|&until| until > now)
    }

    fn may_say(&self, now: Instant, from: CharacterId, text: &str) -> Result<(), SocialRefusal> {
        check_text(text, self.config.max_chat_bytes as usize)?;
        if self.is_muted(now, from) {
            return Err(SocialRefusal::Muted);
        }
        Ok(())
    }

    pub(super) fn chat(
        &mut self,
        now: Instant,
        from: CharacterId,
        channel: ChatChannel,
        text: String,
        near: &[CharacterId],
    ) -> Result<(), SocialRefusal> {
        let slot = rate_slot(channel).ok_or(SocialRefusal::WrongChannel)?;
        self.may_say(now, from, &text)?;
        let m = &self.members[&from];
        let (party, guild, room) = (m.party, m.guild, m.room);
        match channel {
            ChatChannel::Party if party.is_none() => return Err(SocialRefusal::NotInParty),
            ChatChannel::Guild if guild.is_none() => return Err(SocialRefusal::NotInGuild),
            _ => {}
        }
        self.limit(now, from, slot)?;
        let line = ChatLine {
            channel,
            from,
            from_name: self.members[&from].name.clone(),
            text,
        };
        let mut hearers = std::mem::take(&mut self.scratch);
        hearers.clear();
        match channel {
            ChatChannel::Say => {
                hearers.push(from);
                hearers.extend(near.iter().copied().filter(|&c| c != from));
            }
            ChatChannel::Zone => hearers.extend_from_slice(&self.rooms[room as usize]),
            ChatChannel::Party => {
                if let Some(p) = party.and_then(|p| self.parties.get(p)) {
                    hearers.extend_from_slice(&p.members);
                }
            }
            ChatChannel::Guild => {
                if let Some(g) = guild {
                    self.guild_heard(now, g, &line, &mut hearers);
                }
            }
            ChatChannel::World => hearers.extend(self.members.keys().copied()),
            ChatChannel::Whisper | ChatChannel::System => unreachable!("no rate slot"),
        }
        let members = &self.members;
        hearers.retain(|c| {
            members
                .get(c)
                .is_some_and(|m| m.loaded && m.connected && !m.blocks(from))
        });
        self.stats.lines[channel as usize] += 1;
        self.send_many(ServerSocial::Chat(line), true, hearers.iter().copied());
        self.scratch = hearers;
        Ok(())
    }

    pub(super) fn whisper(
        &mut self,
        now: Instant,
        from: CharacterId,
        to: &str,
        text: String,
    ) -> Result<(), SocialRefusal> {
        self.may_say(now, from, &text)?;
        self.limit(now, from, WHISPER)?;
        let target = self.online_named(to, from)?;
        let line = ChatLine {
            channel: ChatChannel::Whisper,
            from,
            from_name: self.members[&from].name.clone(),
            text: text.clone(),
        };
        self.stats.lines[ChatChannel::Whisper as usize] += 1;
        self.send_many(ServerSocial::Chat(line), true, [target]);
        let to = Contact {
            character: target,
            name: self.members[&target].name.clone(),
        };
        self.send_many(ServerSocial::Whispered { to, text }, true, [from]);
        Ok(())
    }

    /// Operator: a line on the system channel to everyone online. Not shed:
    /// a slow client still gets it.
    pub fn system(&mut self, text: &str) {
        let line = ChatLine {
            channel: ChatChannel::System,
            from: CharacterId(0),
            from_name: String::new(),
            text: text.to_owned(),
        };
        let mut hearers = std::mem::take(&mut self.scratch);
        hearers.clear();
        hearers.extend(
            self.members
                .iter()
                .filter(|(_, m)| m.loaded && m.connected)
                .map(|(&c, _)| c),
        );
        self.stats.lines[ChatChannel::System as usize] += 1;
        self.send_many(ServerSocial::Chat(line), false, hearers.iter().copied());
        self.scratch = hearers;
    }
}
