//! Guilds: founding under a unique name, invitations, ranks and what each
//! may do, guild chat with its last lines kept, and saves.
//!
//! Founding waits for the store (the name must be free there). After that a
//! guild is held in memory while any member is here, as a character is, and
//! saved by version: at the next tick after a membership change, and at most
//! every `guild_save_ms` after new lines. A failed save is retried.
//!
//! Ranks: the leader does everything (ranks, kicks anyone); officers invite
//! and kick members; members chat and leave. When the leader leaves, the
//! first officer to have joined leads, or else the first member.

use super::{Pending, Social, SocialRefusal};
use crate::ids::{CharacterId, GuildId};
use crate::persist::{Change, GuildRecord, GuildState, Reply, StoreError};
use crate::protocol::{ChatLine, Contact, GuildRank, GuildView, ServerSocial};
use crate::time::{Duration, Instant};
use crate::timers::TimerSet;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Debug)]
pub(super) struct Guild {
    name: String,
    /// The version of the last save asked for (the store keeps newer ones only).
    version: u64,
    saving: bool,
    /// Changed since the last save asked for.
    dirty: bool,
    /// In the order they joined.
    members: Vec<(Contact, GuildRank)>,
    history: VecDeque<ChatLine>,
}

impl Guild {
    pub(super) fn rank_of(&self, character: CharacterId) -> Option<GuildRank> {
        self.members
            .iter()
            .find(|(c, _)| c.character == character)
            .map(|&(_, r)| r)
    }
}

#[derive(Debug, Default)]
pub(super) struct Guilds {
    by_id: BTreeMap<GuildId, Guild>,
    /// Guilds with a save due.
    saves: TimerSet<GuildId>,
}

impl Guilds {
    pub(super) fn get(&self, id: GuildId) -> Option<&Guild> {
        self.by_id.get(&id)
    }
}

/// `ClientSocial` kinds a late refusal names.
const GUILD_CREATE: u8 = 13;

impl Social {
    /// Guilds held in memory.
    pub fn guild_count(&self) -> usize {
        self.guilds.by_id.len()
    }

    /// A guild held in memory: its name and members with their ranks, in
    /// the order they joined.
    pub fn guild(&self, id: GuildId) -> Option<(&str, &[(Contact, GuildRank)])> {
        let g = self.guilds.by_id.get(&id)?;
        Some((&g.name, &g.members))
    }

    pub(super) fn guild_create(
        &mut self,
        founder: CharacterId,
        name: String,
    ) -> Result<(), SocialRefusal> {
        super::validate_guild_name(&name)?;
        let m = self.members.get_mut(&founder).expect("member");
        if m.guild.is_some() {
            return Err(SocialRefusal::AlreadyInGuild);
        }
        if m.busy {
            return Err(SocialRefusal::Busy);
        }
        m.busy = true;
        self.persist(
            Change::CreateGuild {
                name: name.clone(),
                founder,
            },
            Pending::CreateGuild { founder, name },
        );
        Ok(())
    }

    pub(super) fn guild_founded(
        &mut self,
        _now: Instant,
        founder: CharacterId,
        name: String,
        result: Result<Reply, StoreError>,
    ) {
        let Some(m) = self.members.get_mut(&founder) else {
            return;
        };
        m.busy = false;
        let id = match result {
            Ok(Reply::Guild(id)) => id,
            Err(StoreError::NameTaken) => {
                return self.refuse(founder, GUILD_CREATE, SocialRefusal::NameTaken);
            }
            _ => return self.refuse(founder, GUILD_CREATE, SocialRefusal::Busy),
        };
        m.guild = Some(id);
        let contact = m.contact(founder);
        self.guilds.by_id.insert(
            id,
            Guild {
                name,
                version: 0,
                saving: false,
                dirty: false,
                members: vec![(contact, GuildRank::Leader)],
                history: VecDeque::new(),
            },
        );
        self.stats.guilds_founded += 1;
        self.guild_changed(id);
    }

    /// A member's record arrived with the guilds that list it: it joins the
    /// one held here, or the first, and sees the guild and its last lines.
    pub(super) fn guild_loaded(
        &mut self,
        now: Instant,
        character: CharacterId,
        mut records: Vec<GuildRecord>,
    ) {
        records.sort_unstable_by_key(|g| g.id);
        let mut chosen = None;
        let ids: Vec<GuildId> = records.iter().map(|g| g.id).collect();
        for r in records {
            let listed = match self.guilds.by_id.get(&r.id) {
                Some(held) => held.rank_of(character).is_some(),
                None => {
                    let mut members = r.members;
                    let listed = members.iter().any(|(c, _)| c.character == character);
                    // A leader whose character was deleted: the next leads.
                    let leaderless = !members.iter().any(|&(_, r)| r == GuildRank::Leader);
                    if leaderless {
                        hand_on_lead(&mut members);
                    }
                    self.guilds.by_id.insert(
                        r.id,
                        Guild {
                            name: r.name,
                            version: r.version,
                            saving: false,
                            dirty: leaderless,
                            members,
                            history: r.history.into(),
                        },
                    );
                    if leaderless {
                        self.guilds.saves.set(r.id, Some(now));
                    }
                    listed
                }
            };
            if listed && chosen.is_none() {
                chosen = Some(r.id);
            }
        }
        // A guild held here is newer than the store: one that took the
        // character in and is not yet saved lists it here only. (A scan of
        // the held guilds' members: some thousands of comparisons a login.)
        if chosen.is_none() {
            chosen = self
                .guilds
                .by_id
                .iter()
                .find(|(_, g)| g.rank_of(character).is_some())
                .map(|(&id, _)| id);
        }
        if let Some(id) = chosen {
            self.members.get_mut(&character).expect("member").guild = Some(id);
            let g = &self.guilds.by_id[&id];
            let view = self.guild_view(id, g);
            let lines = self.history_for(character, id);
            self.send(character, ServerSocial::Guild(Some(view)));
            self.send(character, ServerSocial::GuildHistory { lines });
        }
        for id in ids {
            self.evict_if_idle(id);
        }
    }

    pub(super) fn guild_invite(
        &mut self,
        now: Instant,
        from: CharacterId,
        name: &str,
    ) -> Result<(), SocialRefusal> {
        let id = self.members[&from].guild.ok_or(SocialRefusal::NotInGuild)?;
        let g = &self.guilds.by_id[&id];
        if g.rank_of(from) == Some(GuildRank::Member) {
            return Err(SocialRefusal::NotAllowed);
        }
        if g.members.len() >= self.config.guild_size as usize {
            return Err(SocialRefusal::GuildFull);
        }
        let to = self.online_named(name, from)?;
        let (guild_name, contact) = (g.name.clone(), self.members[&from].contact(from));
        let until = now + Duration::from_millis(self.config.party_invite_ms as u64);
        let them = self.members.get_mut(&to).expect("online");
        if them.guild.is_some() {
            return Err(SocialRefusal::AlreadyInGuild);
        }
        if super::invited_elsewhere(&them.guild_invite, now, |_, g| g == id) {
            return Err(SocialRefusal::TooManyInvites);
        }
        them.guild_invite = Some((from, until, id));
        self.send(
            to,
            ServerSocial::GuildInvited {
                guild: id,
                name: guild_name,
                from: contact,
                expires_ms: self.config.party_invite_ms,
            },
        );
        Ok(())
    }

    pub(super) fn guild_answer(
        &mut self,
        now: Instant,
        me: CharacterId,
        guild: GuildId,
        accept: bool,
    ) -> Result<(), SocialRefusal> {
        let m = self.members.get_mut(&me).expect("member");
        let (inviter, _) = super::take_invite(&mut m.guild_invite, now, |_, g| g == guild)?;
        if !accept {
            self.declined(me, inviter);
            return Ok(());
        }
        let m = &self.members[&me];
        let contact = m.contact(me);
        if m.guild.is_some() {
            return Err(SocialRefusal::AlreadyInGuild);
        }
        if m.busy {
            // Founding a guild of its own, or changing a block: one at a time.
            return Err(SocialRefusal::Busy);
        }
        let size = self.config.guild_size as usize;
        // Gone, or disbanded (held only until its last save): no guild to join.
        let g = self
            .guilds
            .by_id
            .get_mut(&guild)
            .filter(|g| !g.members.is_empty())
            .ok_or(SocialRefusal::NoInvite)?;
        if g.members.len() >= size {
            return Err(SocialRefusal::GuildFull);
        }
        g.members.push((contact, GuildRank::Member));
        let lines = self.history_for(me, guild);
        self.members.get_mut(&me).expect("member").guild = Some(guild);
        self.guild_dirty(guild, now);
        self.guild_changed(guild);
        self.send(me, ServerSocial::GuildHistory { lines });
        Ok(())
    }

    pub(super) fn guild_leave(
        &mut self,
        now: Instant,
        me: CharacterId,
    ) -> Result<(), SocialRefusal> {
        let id = self.members[&me].guild.ok_or(SocialRefusal::NotInGuild)?;
        self.remove_from_guild(now, id, me);
        Ok(())
    }

    pub(super) fn guild_kick(
        &mut self,
        now: Instant,
        from: CharacterId,
        who: CharacterId,
    ) -> Result<(), SocialRefusal> {
        if from == who {
            return Err(SocialRefusal::Yourself);
        }
        let id = self.members[&from].guild.ok_or(SocialRefusal::NotInGuild)?;
        let g = &self.guilds.by_id[&id];
        let theirs = g.rank_of(who).ok_or(SocialRefusal::NotMember)?;
        let mine = g.rank_of(from).expect("member");
        // Lower ranks compare greater: Leader < Officer < Member.
        if mine == GuildRank::Member || mine >= theirs {
            return Err(SocialRefusal::NotAllowed);
        }
        self.remove_from_guild(now, id, who);
        Ok(())
    }

    pub(super) fn guild_set_rank(
        &mut self,
        now: Instant,
        from: CharacterId,
        who: CharacterId,
        rank: GuildRank,
    ) -> Result<(), SocialRefusal> {
        if from == who {
            return Err(SocialRefusal::Yourself);
        }
        let id = self.members[&from].guild.ok_or(SocialRefusal::NotInGuild)?;
        let g = self.guilds.by_id.get_mut(&id).expect("guild");
        if g.rank_of(from) != Some(GuildRank::Leader) {
            return Err(SocialRefusal::NotAllowed);
        }
        if g.rank_of(who).is_none() {
            return Err(SocialRefusal::NotMember);
        }
        for (c, r) in g.members.iter_mut() {
            if c.character == who {
                *r = rank;
            } else if c.character == from && rank == GuildRank::Leader {
                *r = GuildRank::Officer;
            }
        }
        self.guild_dirty(id, now);
        self.guild_changed(id);
        Ok(())
    }

    /// Takes `who` out of guild `id`; a leader leaving hands the lead on, and
    /// the last member leaving disbands the guild (saved with no members).
    fn remove_from_guild(&mut self, now: Instant, id: GuildId, who: CharacterId) {
        let g = self.guilds.by_id.get_mut(&id).expect("guild");
        let Some(i) = g.members.iter().position(|(c, _)| c.character == who) else {
            return;
        };
        let (_, rank) = g.members.remove(i);
        if rank == GuildRank::Leader {
            hand_on_lead(&mut g.members);
        }
        if let Some(m) = self.members.get_mut(&who) {
            m.guild = None;
        }
        if self.is_online(who) {
            self.send(who, ServerSocial::Guild(None));
        }
        self.guild_dirty(id, now);
        self.guild_changed(id);
    }

    /// A guild line: kept in the history (saved within `guild_save_ms`);
    /// the guild's members are added to `hearers`.
    pub(super) fn guild_heard(
        &mut self,
        now: Instant,
        id: GuildId,
        line: &ChatLine,
        hearers: &mut Vec<CharacterId>,
    ) {
        let keep = self.config.guild_history as usize;
        let Some(g) = self.guilds.by_id.get_mut(&id) else {
            return;
        };
        if keep > 0 {
            if g.history.len() >= keep {
                g.history.pop_front();
            }
            g.history.push_back(line.clone());
        }
        hearers.extend(g.members.iter().map(|(c, _)| c.character));
        if !g.dirty {
            g.dirty = true;
            let at = now + Duration::from_millis(self.config.guild_save_ms as u64);
            self.guilds.saves.set(id, Some(at));
        }
    }

    /// Membership changed: saved at the next tick.
    fn guild_dirty(&mut self, id: GuildId, now: Instant) {
        if let Some(g) = self.guilds.by_id.get_mut(&id) {
            g.dirty = true;
            self.guilds.saves.set(id, Some(now));
        }
    }

    /// A member left the server: a guild with no member here any more is
    /// saved now if it changed, and forgotten once saved.
    pub(super) fn guild_member_left(&mut self, id: GuildId) {
        if self.guilds.by_id.get(&id).is_some_and(|g| g.dirty) {
            self.guilds.saves.set(id, Some(Instant::ZERO));
        }
        self.evict_if_idle(id);
    }

    pub(super) fn save_due_guilds(&mut self, now: Instant) {
        while let Some((_, id)) = self.guilds.saves.pop_due(now) {
            let Some(g) = self.guilds.by_id.get_mut(&id) else {
                continue;
            };
            if g.saving {
                // One save in flight per guild; this one follows it.
                continue;
            }
            g.saving = true;
            g.dirty = false;
            g.version += 1;
            let state = GuildState {
                members: g.members.iter().map(|(c, r)| (c.character, *r)).collect(),
                history: g.history.iter().cloned().collect(),
            };
            let version = g.version;
            self.persist(
                Change::SaveGuild {
                    guild: id,
                    version,
                    state,
                },
                Pending::SaveGuild { guild: id },
            );
        }
    }

    pub(super) fn guild_saved(&mut self, now: Instant, id: GuildId, ok: bool) {
        let Some(g) = self.guilds.by_id.get_mut(&id) else {
            return;
        };
        g.saving = false;
        if !ok {
            // Tried again a second later (with what changed meanwhile).
            g.dirty = true;
            let at = now + Duration::from_secs(super::SAVE_RETRY_S);
            self.guilds.saves.set(id, Some(at));
        } else if g.dirty {
            // Changed while this save was in flight: the next one now.
            self.guilds.saves.set(id, Some(Instant::ZERO));
        }
        self.evict_if_idle(id);
    }

    /// Forgets guild `id` if it is saved, not saving, and has no member
    /// here (a disbanded guild too, once its last save is in).
    fn evict_if_idle(&mut self, id: GuildId) {
        let Some(g) = self.guilds.by_id.get(&id) else {
            return;
        };
        let here = g.members.iter().any(|(c, _)| {
            self.members
                .get(&c.character)
                .is_some_and(|m| m.guild == Some(id))
        });
        if !(g.dirty || g.saving || here) {
            self.guilds.by_id.remove(&id);
            self.guilds.saves.set(id, None);
        }
    }

    fn guild_view(&self, id: GuildId, g: &Guild) -> GuildView {
        let mut members: Vec<(Contact, GuildRank, bool)> = g
            .members
            .iter()
            .map(|(c, r)| (c.clone(), *r, self.is_online(c.character)))
            .collect();
        members.sort_by(|a, b| (a.1, &a.0.name).cmp(&(b.1, &b.0.name)));
        GuildView {
            guild: id,
            name: g.name.clone(),
            members,
        }
    }

    /// The guild's last lines as `character` may see them: none from those
    /// it blocks.
    fn history_for(&self, character: CharacterId, id: GuildId) -> Vec<ChatLine> {
        let Some(g) = self.guilds.by_id.get(&id) else {
            return Vec::new();
        };
        let me = self.members.get(&character);
        g.history
            .iter()
            .filter(|l| !me.is_some_and(|m| m.blocks(l.from)))
            .cloned()
            .collect()
    }

    /// The guild as it is now, to one member.
    pub(super) fn guild_resend(&mut self, character: CharacterId, id: GuildId) {
        if let Some(g) = self.guilds.by_id.get(&id) {
            let view = self.guild_view(id, g);
            self.send(character, ServerSocial::Guild(Some(view)));
        }
    }

    /// Sends the guild as it is now to its members who are online.
    fn guild_changed(&mut self, id: GuildId) {
        let Some(g) = self.guilds.by_id.get(&id) else {
            return;
        };
        let view = self.guild_view(id, g);
        let online: Vec<CharacterId> = g
            .members
            .iter()
            .map(|(c, _)| c.character)
            .filter(|&c| self.is_online(c))
            .collect();
        self.send_many(ServerSocial::Guild(Some(view)), false, online);
    }
}

/// The lead passes to the first officer to have joined, or else the first
/// member (nothing to do for a guild with no one left).
fn hand_on_lead(members: &mut [(Contact, GuildRank)]) {
    let next = members
        .iter()
        .position(|&(_, r)| r == GuildRank::Officer)
        .unwrap_or(0);
    if let Some(m) = members.get_mut(next) {
        m.1 = GuildRank::Leader;
    }
}
