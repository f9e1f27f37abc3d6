//! What a client knows of its social life: lists, party, guild, the chat it
//! heard lately, and invitations waiting for its answer. Kept from the
//! server's social messages; every one is also handed to the driver as
//! [`super::ClientEvent::Social`].

use crate::ids::{CharacterId, GuildId};
use crate::protocol::{
    ChatLine, Contact, Friend, GuildView, MemberVitals, PartyView, ServerSocial,
};
use std::collections::VecDeque;

/// Chat lines a client keeps.
const KEPT_LINES: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocialView {
    /// The friends list arrived: the server's social record for the
    /// character is loaded and requests are answered.
    pub loaded: bool,
    pub friends: Vec<Friend>,
    pub blocked: Vec<Contact>,
    pub party: Option<PartyView>,
    pub party_vitals: Vec<MemberVitals>,
    pub guild: Option<GuildView>,
    /// The last lines heard (the guild's history after entering), oldest first.
    pub lines: VecDeque<ChatLine>,
    /// Friend requests waiting for an answer.
    pub friend_requests: Vec<Contact>,
    pub party_invite: Option<Contact>,
    pub guild_invite: Option<(GuildId, Contact)>,
    /// Chat lines the server dropped because this client fell behind.
    pub missed: u64,
}

impl SocialView {
    pub(super) fn apply(&mut self, msg: &ServerSocial) {
        match msg {
            ServerSocial::Chat(line) => self.hear(line.clone()),
            ServerSocial::Whispered { .. } | ServerSocial::Refused { .. } => {}
            ServerSocial::ChatMissed { count } => self.missed += *count as u64,
            ServerSocial::Friends { friends } => {
                self.loaded = true;
                self.friends = friends.clone();
            }
            ServerSocial::FriendChanged(f) => {
                match self
                    .friends
                    .iter_mut()
                    .find(|x| x.contact.character == f.contact.character)
                {
                    Some(x) => *x = f.clone(),
                    None => self.friends.push(f.clone()),
                }
                self.friend_requests
                    .retain(|c| c.character != f.contact.character);
            }
            ServerSocial::FriendRemoved { character } => {
                self.friends.retain(|f| f.contact.character != *character)
            }
            ServerSocial::FriendRequested { from } => {
                self.friend_requests
                    .retain(|c| c.character != from.character);
                self.friend_requests.push(from.clone());
            }
            ServerSocial::Declined { .. } => {}
            ServerSocial::Blocked { blocked } => self.blocked = blocked.clone(),
            ServerSocial::PartyInvited { from, .. } => self.party_invite = Some(from.clone()),
            ServerSocial::Party(p) => {
                if p.is_none() {
                    self.party_vitals.clear();
                }
                self.party = p.clone();
            }
            ServerSocial::PartyVitals { members } => self.party_vitals = members.clone(),
            ServerSocial::GuildInvited { guild, from, .. } => {
                self.guild_invite = Some((*guild, from.clone()))
            }
            ServerSocial::Guild(g) => self.guild = g.clone(),
            ServerSocial::GuildHistory { lines } => {
                for l in lines {
                    self.hear(l.clone());
                }
            }
        }
    }

    fn hear(&mut self, line: ChatLine) {
        if self.lines.len() >= KEPT_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// Whether `character` is a friend.
    pub fn is_friend(&self, character: CharacterId) -> bool {
        self.friends
            .iter()
            .any(|f| f.contact.character == character)
    }

    /// Everything known is forgotten (a new character entering the world).
    pub(super) fn clear(&mut self) {
        *self = SocialView::default();
    }
}
