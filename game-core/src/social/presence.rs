//! Presence: who entered the world, moved, dropped and left, as the node
//! tells it, and the rooms (map and channel) the zone channel talks to.

use super::{chat, Member, Pending, Social};
use crate::ids::CharacterId;
use crate::protocol::Whereabouts;
use crate::time::Instant;

impl Social {
    /// `character` entered the world at `at`: its record is loaded, then it
    /// hears and is heard, and its friends see it online.
    pub fn entered(&mut self, character: CharacterId, name: &str, at: Whereabouts) {
        if self.members.contains_key(&character) {
            self.moved(character, at);
            self.reattached(character);
            return;
        }
        let room = self.room_of(&at);
        self.members.insert(
            character,
            Member {
                name: name.to_owned(),
                at,
                room,
                loaded: false,
                connected: true,
                friends: Vec::new(),
                blocked: Vec::new(),
                requests: Vec::new(),
                party: None,
                party_invite: None,
                guild: None,
                guild_invite: None,
                busy: false,
                friends_pending: 0,
                rates: [Instant::ZERO; chat::RATES],
            },
        );
        self.load(character);
    }

    /// `character` is now at `at` (a portal, a channel switch).
    pub fn moved(&mut self, character: CharacterId, at: Whereabouts) {
        let room = self.room_of(&at);
        let Some(m) = self.members.get_mut(&character) else {
            return;
        };
        if m.at == at {
            return;
        }
        let (old, loaded) = (m.room, m.loaded);
        m.at = at;
        m.room = room;
        if loaded {
            self.leave_room(old, character);
            self.rooms[room as usize].push(character);
            self.tell_friends(character);
        }
    }

    /// `character`'s connection dropped: it is kept (party, guild) for the
    /// grace period, but hears nothing and friends see it offline.
    pub fn detached(&mut self, character: CharacterId) {
        self.set_connected(character, false);
    }

    /// `character`'s player resumed or was taken over by a new connection:
    /// its new client is sent its lists, party and guild afresh.
    pub fn reattached(&mut self, character: CharacterId) {
        let Some(m) = self.members.get(&character) else {
            return;
        };
        if m.connected {
            // A take-over: the old connection never read as dropped.
            if m.loaded {
                self.send_lists(character);
                self.party_changed_of(character);
            }
        } else {
            self.set_connected(character, true);
        }
    }

    /// `character` left for good: out of its party, its rooms and its
    /// friends' online lists; its guild is saved and forgotten if no member
    /// is left online.
    pub fn left(&mut self, character: CharacterId) {
        self.set_connected(character, false);
        self.leave_party(character);
        let Some(m) = self.members.remove(&character) else {
            return;
        };
        // Its loads in flight or waiting to be retried were for this visit:
        // answered after a next one began, they would seat it twice.
        self.pending
            .retain(|_, why| !matches!(why, Pending::Load(c) if *c == character));
        self.to_load.retain(|&(c, _)| c != character);
        if m.loaded {
            self.leave_room(m.room, character);
        }
        if let Some(g) = m.guild {
            self.guild_member_left(g);
        }
    }

    fn set_connected(&mut self, character: CharacterId, connected: bool) {
        let Some(m) = self.members.get_mut(&character) else {
            return;
        };
        if m.connected == connected {
            return;
        }
        m.connected = connected;
        let key = crate::auth::name_key(&m.name);
        if !m.loaded {
            return;
        }
        if connected {
            self.by_name.insert(key, character);
            self.send_lists(character);
        } else {
            self.by_name.remove(&key);
        }
        self.tell_friends(character);
        self.party_changed_of(character);
    }

    fn room_of(&mut self, at: &Whereabouts) -> u32 {
        if let Some(&id) = self.room_ids.get(&at.map).and_then(|c| c.get(&at.channel)) {
            return id;
        }
        let id = self.rooms.len() as u32;
        self.rooms.push(Vec::new());
        self.room_ids
            .entry(at.map.clone())
            .or_default()
            .insert(at.channel, id);
        id
    }

    fn leave_room(&mut self, room: u32, character: CharacterId) {
        let list = &mut self.rooms[room as usize];
        if let Some(i) = list.iter().position(|&c| c == character) {
            list.swap_remove(i);
        }
    }
}
