//! Parties: invitations with an expiry, members in the order they joined, a
//! leader (the next member leads when it leaves), raid parties with a larger
//! cap. Parties live in memory only: one survives a member's dropped
//! connection for the grace period, and ends when fewer than two remain.

use super::{Social, SocialRefusal};
use crate::ids::CharacterId;
use crate::protocol::{Contact, PartyView, ServerSocial};
use crate::time::{Duration, Instant};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub(super) struct Party {
    pub(super) leader: CharacterId,
    /// In the order they joined.
    pub(super) members: Vec<CharacterId>,
    cap: u8,
    raid: bool,
    /// When the members are next sent each other's vitals.
    next_vitals: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Parties {
    by_id: BTreeMap<u32, Party>,
    next_id: u32,
}

impl Parties {
    pub(super) fn get(&self, id: u32) -> Option<&Party> {
        self.by_id.get(&id)
    }

    pub(super) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Parties due their members' vitals at `now`, as (party, member) pairs
    /// grouped by party; each is due again `every_ms` later.
    pub(super) fn vitals_due(
        &mut self,
        now: Instant,
        every_ms: u32,
        out: &mut Vec<(u32, CharacterId)>,
    ) {
        for (&id, p) in self.by_id.iter_mut() {
            if p.next_vitals <= now {
                p.next_vitals = now + Duration::from_millis(every_ms as u64);
                out.extend(p.members.iter().map(|&c| (id, c)));
            }
        }
    }
}

impl Social {
    pub(super) fn party_invite(
        &mut self,
        now: Instant,
        from: CharacterId,
        name: &str,
    ) -> Result<(), SocialRefusal> {
        let to = self.online_named(name, from)?;
        let me = &self.members[&from];
        let into = me.party;
        let raid = match into.and_then(|p| self.parties.get(p)) {
            Some(p) if p.leader != from => return Err(SocialRefusal::NotAllowed),
            Some(p) if p.members.len() >= p.cap as usize => return Err(SocialRefusal::PartyFull),
            Some(p) => p.raid,
            None => false,
        };
        let contact = me.contact(from);
        let ms = self.config.party_invite_ms;
        let them = self.members.get_mut(&to).expect("online");
        if them.party.is_some() {
            return Err(SocialRefusal::AlreadyInParty);
        }
        if super::invited_elsewhere(&them.party_invite, now, |by, _| by == from) {
            return Err(SocialRefusal::TooManyInvites);
        }
        them.party_invite = Some((from, now + Duration::from_millis(ms as u64), into));
        self.send(
            to,
            ServerSocial::PartyInvited {
                from: contact,
                raid,
                expires_ms: ms,
            },
        );
        Ok(())
    }

    pub(super) fn party_answer(
        &mut self,
        now: Instant,
        me: CharacterId,
        inviter: CharacterId,
        accept: bool,
    ) -> Result<(), SocialRefusal> {
        let m = self.members.get_mut(&me).expect("member");
        let (_, into) = super::take_invite(&mut m.party_invite, now, |by, _| by == inviter)?;
        if !accept {
            self.declined(me, inviter);
            return Ok(());
        }
        if self.members[&me].party.is_some() {
            return Err(SocialRefusal::AlreadyInParty);
        }
        let inviter_party = match self.members.get(&inviter) {
            Some(i) if i.loaded => i.party,
            _ => return Err(SocialRefusal::NotOnline),
        };
        // The party invited into. An invitation from someone in no party
        // is into the party it leads once one accepts (several may be
        // invited at once); void if it has since joined another's party.
        let still = match (into, inviter_party) {
            (Some(was), Some(now)) => was == now,
            (None, None) => true,
            (None, Some(now)) => self.parties.get(now).is_some_and(|p| p.leader == inviter),
            (Some(_), None) => false,
        };
        if !still {
            return Err(SocialRefusal::NoInvite);
        }
        let id = match inviter_party {
            Some(id) => {
                let p = self.parties.by_id.get_mut(&id).expect("party");
                if p.members.len() >= p.cap as usize {
                    return Err(SocialRefusal::PartyFull);
                }
                p.members.push(me);
                id
            }
            None => {
                self.parties.next_id += 1;
                let id = self.parties.next_id;
                self.parties.by_id.insert(
                    id,
                    Party {
                        leader: inviter,
                        members: vec![inviter, me],
                        cap: self.config.party_size,
                        raid: false,
                        next_vitals: now,
                    },
                );
                self.members.get_mut(&inviter).expect("inviter").party = Some(id);
                self.stats.parties_formed += 1;
                id
            }
        };
        self.members.get_mut(&me).expect("member").party = Some(id);
        self.party_changed(id);
        Ok(())
    }

    /// Takes `character` out of its party; the next member leads if it led,
    /// and a party of one ends. False if it was in none.
    pub(super) fn leave_party(&mut self, character: CharacterId) -> bool {
        let Some(id) = self
            .members
            .get_mut(&character)
            .and_then(|m| m.party.take())
        else {
            return false;
        };
        let p = self.parties.by_id.get_mut(&id).expect("party");
        p.members.retain(|&c| c != character);
        if p.leader == character {
            p.leader = p.members[0];
        }
        let remaining = p.members.len();
        if self.is_online(character) {
            self.send(character, ServerSocial::Party(None));
        }
        if remaining < 2 {
            let p = self.parties.by_id.remove(&id).expect("party");
            for c in p.members {
                if let Some(m) = self.members.get_mut(&c) {
                    m.party = None;
                }
                if self.is_online(c) {
                    self.send(c, ServerSocial::Party(None));
                }
            }
        } else {
            self.party_changed(id);
        }
        true
    }

    /// The party `leader` leads (refusing anyone else), and whether `who` is in it.
    fn led_by(&self, leader: CharacterId, who: CharacterId) -> Result<(u32, bool), SocialRefusal> {
        let id = self.members[&leader]
            .party
            .ok_or(SocialRefusal::NotInParty)?;
        let p = self.parties.get(id).expect("party");
        if p.leader != leader {
            return Err(SocialRefusal::NotAllowed);
        }
        Ok((id, p.members.contains(&who)))
    }

    /// The party `leader` leads, if `who` is another member of it.
    fn led_member(&self, leader: CharacterId, who: CharacterId) -> Result<u32, SocialRefusal> {
        if leader == who {
            return Err(SocialRefusal::Yourself);
        }
        match self.led_by(leader, who)? {
            (id, true) => Ok(id),
            (_, false) => Err(SocialRefusal::NotMember),
        }
    }

    pub(super) fn party_kick(
        &mut self,
        leader: CharacterId,
        who: CharacterId,
    ) -> Result<(), SocialRefusal> {
        self.led_member(leader, who)?;
        self.leave_party(who);
        Ok(())
    }

    pub(super) fn party_promote(
        &mut self,
        leader: CharacterId,
        who: CharacterId,
    ) -> Result<(), SocialRefusal> {
        let id = self.led_member(leader, who)?;
        self.parties.by_id.get_mut(&id).expect("party").leader = who;
        self.party_changed(id);
        Ok(())
    }

    pub(super) fn party_make_raid(&mut self, leader: CharacterId) -> Result<(), SocialRefusal> {
        let (id, _) = self.led_by(leader, leader)?;
        let p = self.parties.by_id.get_mut(&id).expect("party");
        p.raid = true;
        p.cap = self.config.raid_size;
        self.party_changed(id);
        Ok(())
    }

    /// Sends the party as it is now to its members who are online.
    pub(super) fn party_changed(&mut self, id: u32) {
        let Some(p) = self.parties.get(id) else {
            return;
        };
        let members = p
            .members
            .iter()
            .map(|&c| {
                let m = &self.members[&c];
                (
                    Contact {
                        character: c,
                        name: m.name.clone(),
                    },
                    m.connected,
                )
            })
            .collect();
        let view = PartyView {
            leader: p.leader,
            members,
            cap: p.cap,
        };
        let online: Vec<CharacterId> = p
            .members
            .iter()
            .copied()
            .filter(|&c| self.is_online(c))
            .collect();
        self.send_many(ServerSocial::Party(Some(view)), false, online);
    }

    /// `character`'s party, if any, hears how it is now.
    pub(super) fn party_changed_of(&mut self, character: CharacterId) {
        if let Some(id) = self.members.get(&character).and_then(|m| m.party) {
            self.party_changed(id);
        }
    }

    /// Parties in being.
    pub fn party_count(&self) -> usize {
        self.parties.len()
    }
}
