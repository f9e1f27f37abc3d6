//! The reference store's social changes: friendships, blocks and guilds.

use super::MemoryStore;
use crate::ids::{CharacterId, GuildId, IntentId};
use crate::persist::{GuildRecord, GuildState, Reply, SocialRecord, StoreError};
use crate::protocol::{Contact, GuildRank};
use crate::social::guild_name_key;

#[derive(Clone, Debug)]
pub(super) struct StoredGuild {
    name: String,
    version: u64,
    state: GuildState,
    /// The intent that founded it: the same creation again answers as the first.
    created_by: IntentId,
}

impl MemoryStore {
    pub(super) fn load_social(&self, character: CharacterId) -> Result<Reply, StoreError> {
        if !self.characters.contains_key(&character) {
            return Err(StoreError::NoSuchCharacter);
        }
        let friends = self
            .friends
            .iter()
            .filter_map(|&(a, b)| match (a == character, b == character) {
                (true, _) => Some(b),
                (_, true) => Some(a),
                _ => None,
            })
            .filter_map(|c| self.contact(c))
            .collect();
        let blocked = self
            .blocks
            .range((character, CharacterId(0))..=(character, CharacterId(u64::MAX)))
            .filter_map(|&(_, whom)| self.contact(whom))
            .collect();
        let guilds = self
            .guilds
            .iter()
            .filter(|(_, g)| g.state.members.iter().any(|&(c, _)| c == character))
            .map(|(&id, g)| self.guild_record(id, g))
            .collect();
        Ok(Reply::Social(SocialRecord {
            friends,
            blocked,
            guilds,
        }))
    }

    pub(super) fn set_friends(
        &mut self,
        a: CharacterId,
        b: CharacterId,
        friends: bool,
    ) -> Result<Reply, StoreError> {
        self.both_exist(a, b)?;
        let pair = (a.min(b), a.max(b));
        if friends {
            self.friends.insert(pair);
        } else {
            self.friends.remove(&pair);
        }
        Ok(Reply::Done)
    }

    pub(super) fn set_blocked(
        &mut self,
        by: CharacterId,
        whom: CharacterId,
        blocked: bool,
    ) -> Result<Reply, StoreError> {
        self.both_exist(by, whom)?;
        if blocked {
            self.blocks.insert((by, whom));
        } else {
            self.blocks.remove(&(by, whom));
        }
        Ok(Reply::Done)
    }

    pub(super) fn create_guild(
        &mut self,
        intent: IntentId,
        name: &str,
        founder: CharacterId,
    ) -> Result<Reply, StoreError> {
        if !self.characters.contains_key(&founder) {
            return Err(StoreError::NoSuchCharacter);
        }
        let key = guild_name_key(name);
        if let Some(&id) = self.guild_names.get(&key) {
            return if self.guilds[&id].created_by == intent {
                Ok(Reply::Guild(id))
            } else {
                Err(StoreError::NameTaken)
            };
        }
        self.next_guild += 1;
        let id = GuildId(self.next_guild);
        self.guild_names.insert(key, id);
        self.guilds.insert(
            id,
            StoredGuild {
                name: name.to_owned(),
                version: 0,
                state: GuildState {
                    members: vec![(founder, GuildRank::Leader)],
                    history: Vec::new(),
                },
                created_by: intent,
            },
        );
        Ok(Reply::Guild(id))
    }

    pub(super) fn save_guild(
        &mut self,
        guild: GuildId,
        version: u64,
        state: &GuildState,
    ) -> Result<Reply, StoreError> {
        let Some(g) = self.guilds.get_mut(&guild) else {
            return Ok(Reply::Done);
        };
        if version <= g.version {
            return Ok(Reply::Done);
        }
        g.version = version;
        g.state = state.clone();
        let characters = &self.characters;
        g.state.members.retain(|(c, _)| characters.contains_key(c));
        if g.state.members.is_empty() {
            let gone = self.guilds.remove(&guild).expect("present");
            self.guild_names.remove(&guild_name_key(&gone.name));
        }
        Ok(Reply::Done)
    }

    /// Removes a deleted character from every friendship, block and guild;
    /// a guild it leaves empty is disbanded. (A guild whose leader it was
    /// keeps no leader here; the social layer hands the lead on when it
    /// next loads the guild.)
    pub(super) fn forget_social(&mut self, character: CharacterId) {
        self.friends
            .retain(|&(a, b)| a != character && b != character);
        self.blocks
            .retain(|&(by, whom)| by != character && whom != character);
        for g in self.guilds.values_mut() {
            g.state.members.retain(|&(c, _)| c != character);
        }
        // A guild left with no one is disbanded, as by its last save.
        let empty: Vec<GuildId> = self
            .guilds
            .iter()
            .filter(|(_, g)| g.state.members.is_empty())
            .map(|(&id, _)| id)
            .collect();
        for id in empty {
            let gone = self.guilds.remove(&id).expect("present");
            self.guild_names.remove(&guild_name_key(&gone.name));
        }
    }

    /// A guild as stored, for tests and invariants.
    pub fn guild(&self, id: GuildId) -> Option<GuildRecord> {
        self.guilds.get(&id).map(|g| self.guild_record(id, g))
    }

    /// Every stored friendship, each pair once (lower id first).
    pub fn friendships(&self) -> impl Iterator<Item = (CharacterId, CharacterId)> + '_ {
        self.friends.iter().copied()
    }

    fn guild_record(&self, id: GuildId, g: &StoredGuild) -> GuildRecord {
        GuildRecord {
            id,
            name: g.name.clone(),
            version: g.version,
            members: g
                .state
                .members
                .iter()
                .filter_map(|&(c, rank)| Some((self.contact(c)?, rank)))
                .collect(),
            history: g.state.history.clone(),
        }
    }

    fn contact(&self, character: CharacterId) -> Option<Contact> {
        self.characters.get(&character).map(|c| Contact {
            character,
            name: c.record.name.clone(),
        })
    }

    fn both_exist(&self, a: CharacterId, b: CharacterId) -> Result<(), StoreError> {
        if a != b && self.characters.contains_key(&a) && self.characters.contains_key(&b) {
            Ok(())
        } else {
            Err(StoreError::NoSuchCharacter)
        }
    }
}
