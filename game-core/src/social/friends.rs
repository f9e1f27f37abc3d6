//! Friends, blocks and presence.
//!
//! A friendship or a block is a change the store applies first: both sides
//! see it only once the store has it (rule 2 of the store contract), so a
//! crash can never show a friendship that is not there after a restart.
//! Requests are live (the asked character must be online) and expire.

use super::{Pending, Social, SocialRefusal};
use crate::ids::CharacterId;
use crate::persist::{Change, Reply, SocialRecord, StoreError};
use crate::protocol::{Contact, Friend, ServerSocial};
use crate::time::{Duration, Instant};

impl Social {
    /// A character's record arrived: it hears and is heard from now on, its
    /// online friends see it arrive, and its client gets its lists.
    pub(super) fn loaded(&mut self, now: Instant, character: CharacterId, record: SocialRecord) {
        // A second answer (a retry that raced the first) changes nothing.
        let Some(m) = self.members.get_mut(&character).filter(|m| !m.loaded) else {
            return;
        };
        let SocialRecord {
            mut friends,
            mut blocked,
            guilds,
        } = record;
        friends.sort_unstable_by_key(|c| c.character);
        friends.dedup_by_key(|c| c.character);
        friends.truncate(self.config.max_friends as usize);
        blocked.sort_unstable_by_key(|c| c.character);
        blocked.dedup_by_key(|c| c.character);
        blocked.truncate(self.config.max_blocked as usize);
        m.friends = friends;
        m.blocked = blocked;
        m.loaded = true;
        let (room, connected, key) = (m.room, m.connected, crate::auth::name_key(&m.name));
        self.rooms[room as usize].push(character);
        if connected {
            self.by_name.insert(key, character);
        }
        self.send_lists(character);
        self.tell_friends(character);
        self.guild_loaded(now, character, guilds);
    }

    /// The character's lists, to its client: after loading (the friends
    /// list, even empty, tells the client its record is loaded), and again
    /// after a resume, when the client starts afresh (its party follows from
    /// the reconnection itself).
    pub(super) fn send_lists(&mut self, character: CharacterId) {
        let list = self.friend_list(character);
        self.send(character, ServerSocial::Friends { friends: list });
        let m = &self.members[&character];
        let (blocking, guild) = (!m.blocked.is_empty(), m.guild);
        if blocking {
            self.send_block_list(character);
        }
        if let Some(g) = guild {
            self.guild_resend(character, g);
        }
    }

    /// Where `character` is, as `viewer` sees it: offline to those it blocks.
    fn presence_for(
        &self,
        viewer: CharacterId,
        character: CharacterId,
    ) -> Option<crate::protocol::Whereabouts> {
        let m = self.members.get(&character)?;
        (m.loaded && m.connected && !m.blocks(viewer)).then(|| m.at.clone())
    }

    fn friend_list(&self, character: CharacterId) -> Vec<Friend> {
        self.members[&character]
            .friends
            .iter()
            .map(|c| Friend {
                contact: c.clone(),
                online: self.presence_for(character, c.character),
            })
            .collect()
    }

    /// Tells `character`'s online friends where it is now (or that it is offline).
    pub(super) fn tell_friends(&mut self, character: CharacterId) {
        let Some(m) = self.members.get(&character) else {
            return;
        };
        if !m.loaded {
            return;
        }
        let friend = Friend {
            contact: m.contact(character),
            online: (m.loaded && m.connected).then(|| m.at.clone()),
        };
        let mut hearers = std::mem::take(&mut self.scratch);
        hearers.clear();
        // Friends it blocks already see it offline, and keep doing so.
        hearers.extend(
            m.friends
                .iter()
                .map(|c| c.character)
                .filter(|&c| self.is_online(c) && !m.blocks(c)),
        );
        if !hearers.is_empty() {
            self.send_many(
                ServerSocial::FriendChanged(friend),
                false,
                hearers.iter().copied(),
            );
        }
        self.scratch = hearers;
    }

    fn send_block_list(&mut self, character: CharacterId) {
        let blocked = self.members[&character].blocked.clone();
        self.send(character, ServerSocial::Blocked { blocked });
    }

    pub(super) fn block(
        &mut self,
        by: CharacterId,
        whom: CharacterId,
        blocked: bool,
    ) -> Result<(), SocialRefusal> {
        if by == whom {
            return Err(SocialRefusal::Yourself);
        }
        let m = &self.members[&by];
        if m.busy {
            return Err(SocialRefusal::Busy);
        }
        if m.blocks(whom) == blocked {
            return Ok(());
        }
        if blocked && m.blocked.len() >= self.config.max_blocked as usize {
            return Err(SocialRefusal::ListFull);
        }
        // Blocking names whom by what this server knows of it: online now,
        // or a friend. Unblocking takes the name from the list.
        let contact = if blocked {
            match self.members.get(&whom) {
                Some(w) if w.loaded => w.contact(whom),
                _ => m
                    .friends
                    .iter()
                    .find(|c| c.character == whom)
                    .cloned()
                    .ok_or(SocialRefusal::NotOnline)?,
            }
        } else {
            m.blocked
                .iter()
                .find(|c| c.character == whom)
                .cloned()
                .expect("blocked")
        };
        self.members.get_mut(&by).expect("member").busy = true;
        self.persist(
            Change::SetBlocked { by, whom, blocked },
            Pending::Block {
                by,
                whom: contact,
                blocked,
            },
        );
        Ok(())
    }

    pub(super) fn block_settled(
        &mut self,
        by: CharacterId,
        whom: Contact,
        blocked: bool,
        result: Result<Reply, StoreError>,
    ) {
        let Some(m) = self.members.get_mut(&by) else {
            return;
        };
        m.busy = false;
        if result.is_err() {
            self.refuse(by, 2 + !blocked as u8, SocialRefusal::Busy);
            return;
        }
        let was_friend = m.is_friend(whom.character);
        let whom_id = whom.character;
        match m.blocked.binary_search_by_key(&whom_id, |c| c.character) {
            Ok(i) if !blocked => {
                m.blocked.remove(i);
            }
            // Within the cap even when the block was asked for in a visit
            // before this one (the list was loaded again meanwhile, without
            // it); the store may keep one more, which a load truncates too.
            Err(i) if blocked && m.blocked.len() < self.config.max_blocked as usize => {
                m.blocked.insert(i, whom)
            }
            _ => {}
        }
        self.send_block_list(by);
        // A friend blocked sees the blocker go offline; unblocked, back.
        if was_friend && self.is_online(whom_id) {
            let friend = Friend {
                contact: self.members[&by].contact(by),
                online: self.presence_for(whom_id, by),
            };
            self.send(whom_id, ServerSocial::FriendChanged(friend));
        }
    }

    pub(super) fn friend_request(
        &mut self,
        now: Instant,
        from: CharacterId,
        name: &str,
    ) -> Result<(), SocialRefusal> {
        let to = self.online_named(name, from)?;
        let max = self.config.max_friends as usize;
        let me = &self.members[&from];
        if me.is_friend(to) {
            return Err(SocialRefusal::AlreadyFriends);
        }
        if me.friends.len() >= max {
            return Err(SocialRefusal::ListFull);
        }
        let contact = me.contact(from);
        let until = now + Duration::from_millis(self.config.friend_request_ms as u64);
        let cap = self.config.max_friend_requests as usize;
        let them = self.members.get_mut(&to).expect("online");
        them.requests.retain(|&(_, t)| t > now);
        if let Some(r) = them.requests.iter_mut().find(|(c, _)| *c == from) {
            r.1 = until;
            return Ok(());
        }
        if them.requests.len() >= cap {
            return Err(SocialRefusal::TooManyInvites);
        }
        them.requests.push((from, until));
        self.send(to, ServerSocial::FriendRequested { from: contact });
        Ok(())
    }

    pub(super) fn friend_answer(
        &mut self,
        now: Instant,
        me: CharacterId,
        asker: CharacterId,
        accept: bool,
    ) -> Result<(), SocialRefusal> {
        let m = self.members.get_mut(&me).expect("member");
        let i = m
            .requests
            .iter()
            .position(|&(c, until)| c == asker && until > now)
            .ok_or(SocialRefusal::NoInvite)?;
        m.requests.swap_remove(i);
        let contact = m.contact(me);
        if !self.is_online(asker) {
            return Err(SocialRefusal::NotOnline);
        }
        if !accept {
            self.declined(me, asker);
            return Ok(());
        }
        if self.members[&me].is_friend(asker) {
            return Err(SocialRefusal::AlreadyFriends);
        }
        // Friendships on their way to the store count, so several accepts
        // at once cannot pass the cap.
        let max = self.config.max_friends as usize;
        let full = |m: &super::Member| m.friends.len() + m.friends_pending as usize >= max;
        if full(&self.members[&me]) || full(&self.members[&asker]) {
            return Err(SocialRefusal::ListFull);
        }
        for c in [me, asker] {
            self.members.get_mut(&c).expect("online").friends_pending += 1;
        }
        let a = self.members[&asker].contact(asker);
        self.persist(
            Change::SetFriends {
                a: asker,
                b: me,
                friends: true,
            },
            Pending::Friends {
                a,
                b: contact,
                friends: true,
            },
        );
        Ok(())
    }

    pub(super) fn friend_remove(
        &mut self,
        me: CharacterId,
        other: CharacterId,
    ) -> Result<(), SocialRefusal> {
        let m = &self.members[&me];
        let Some(b) = m.friends.iter().find(|c| c.character == other).cloned() else {
            return Err(SocialRefusal::NotFriends);
        };
        let a = m.contact(me);
        self.persist(
            Change::SetFriends {
                a: me,
                b: other,
                friends: false,
            },
            Pending::Friends {
                a,
                b,
                friends: false,
            },
        );
        Ok(())
    }

    /// A friendship the store now has (or no longer has): both sides that
    /// are here update their lists and are told.
    pub(super) fn friends_settled(
        &mut self,
        a: Contact,
        b: Contact,
        friends: bool,
        result: Result<Reply, StoreError>,
    ) {
        if friends {
            for c in [a.character, b.character] {
                if let Some(m) = self.members.get_mut(&c) {
                    m.friends_pending = m.friends_pending.saturating_sub(1);
                }
            }
        }
        if result.is_err() {
            // `b` accepted, or `a` removed: the one who acted hears it failed.
            let (actor, kind) = if friends {
                (b.character, 5)
            } else {
                (a.character, 6)
            };
            self.refuse(actor, kind, SocialRefusal::Busy);
            return;
        }
        if friends {
            self.stats.friendships_made += 1;
        }
        for (me, other) in [(&a, &b), (&b, &a)] {
            let (me, other_id) = (me.character, other.character);
            let Some(m) = self.members.get_mut(&me) else {
                continue;
            };
            if !m.loaded {
                continue;
            }
            let at = m.friends.binary_search_by_key(&other_id, |c| c.character);
            match (at, friends) {
                (Err(i), true) => m.friends.insert(i, other.clone()),
                (Ok(i), false) => {
                    m.friends.remove(i);
                }
                _ => {}
            }
            let msg = if friends {
                ServerSocial::FriendChanged(Friend {
                    contact: other.clone(),
                    online: self.presence_for(me, other_id),
                })
            } else {
                ServerSocial::FriendRemoved {
                    character: other_id,
                }
            };
            self.send(me, msg);
        }
    }

    /// A refusal decided later than the request (a store failure); told to
    /// the asker only if it is still here.
    pub(super) fn refuse(&mut self, to: CharacterId, request: u8, reason: SocialRefusal) {
        *self.stats.refusals.entry(reason.label()).or_default() += 1;
        if self.members.contains_key(&to) {
            self.send(to, ServerSocial::Refused { request, reason });
        }
    }
}
