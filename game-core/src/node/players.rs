//! The players of a node, indexed by id and by account.

use crate::ids::{AccountId, CharacterId, ConnId, IdMap, PlayerId};
use crate::protocol::{CharacterSummary, ResumeToken};
use crate::time::Instant;
use std::collections::BTreeMap;

/// A logged-in account. It outlives its connection for the resume grace period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Player {
    pub id: PlayerId,
    pub account: AccountId,
    /// The account's name (for development accounts, what the client typed).
    pub name: String,
    /// The connection it is attached to; `None` during the grace period.
    pub conn: Option<ConnId>,
    pub resume_token: ResumeToken,
    /// When a detached player is removed for good.
    pub grace_until: Option<Instant>,
    pub in_world: bool,
    /// The account's characters, as the store last listed them.
    pub characters: Vec<CharacterSummary>,
    /// The character being loaded or played.
    pub character: Option<CharacterId>,
    /// A character request waits for the store.
    pub busy: bool,
    /// Where the character is; kept while detached, so a resume finds it.
    pub location: Option<super::Location>,
}

#[derive(Debug, Default)]
pub(super) struct Players {
    by_id: IdMap<PlayerId, Player>,
    by_account: BTreeMap<AccountId, PlayerId>,
    next_id: u64,
}

impl Players {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn get(&self, id: PlayerId) -> Option<&Player> {
        self.by_id.get(&id)
    }

    pub fn get_mut(&mut self, id: PlayerId) -> Option<&mut Player> {
        self.by_id.get_mut(&id)
    }

    /// In no particular order (the same on every run).
    pub fn iter(&self) -> impl Iterator<Item = &Player> {
        self.by_id.values()
    }

    pub fn by_account(&self, account: AccountId) -> Option<PlayerId> {
        self.by_account.get(&account).copied()
    }

    pub fn insert(
        &mut self,
        account: AccountId,
        name: String,
        characters: Vec<CharacterSummary>,
        conn: ConnId,
        token: ResumeToken,
    ) -> PlayerId {
        self.next_id += 1;
        let id = PlayerId(self.next_id);
        self.by_account.insert(account, id);
        self.by_id.insert(
            id,
            Player {
                id,
                account,
                name,
                conn: Some(conn),
                resume_token: token,
                grace_until: None,
                in_world: false,
                characters,
                character: None,
                busy: false,
                location: None,
            },
        );
        id
    }

    pub fn remove(&mut self, id: PlayerId) -> Option<Player> {
        let p = self.by_id.remove(&id)?;
        self.by_account.remove(&p.account);
        Some(p)
    }
}
