//! The social layer's side of the store contract: the changes it asks for,
//! what each was for, and where each outcome goes.

use super::{Social, LOAD_RETRY_S};
use crate::ids::{CharacterId, GuildId};
use crate::persist::{Change, Reply, StoreError};
use crate::protocol::Contact;
use crate::time::{Duration, Instant};

/// Names a store change the social layer asked for, so its outcome finds its
/// way back ([`Social::store_outcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocialToken(pub u64);

/// What a change in flight was for.
#[derive(Clone, Debug)]
pub(super) enum Pending {
    Load(CharacterId),
    Friends {
        a: Contact,
        b: Contact,
        friends: bool,
    },
    Block {
        by: CharacterId,
        whom: Contact,
        blocked: bool,
    },
    CreateGuild {
        founder: CharacterId,
        name: String,
    },
    SaveGuild {
        guild: GuildId,
    },
}

impl Social {
    /// The next change for the store, with the token its outcome comes back with.
    pub fn take_intent(&mut self) -> Option<(SocialToken, Change)> {
        self.intents.pop_front()
    }

    pub(super) fn persist(&mut self, change: Change, why: Pending) {
        self.next_token += 1;
        let token = SocialToken(self.next_token);
        self.pending.insert(token, why);
        self.intents.push_back((token, change));
    }

    /// Asks the store for `character`'s record.
    pub(super) fn load(&mut self, character: CharacterId) {
        self.persist(Change::LoadSocial { character }, Pending::Load(character));
    }

    /// The store's answer to a change named by `token`; a failure or a
    /// timeout (`Err(Unavailable)`) is retried or refused as each change needs.
    pub fn store_outcome(
        &mut self,
        now: Instant,
        token: SocialToken,
        result: Result<Reply, StoreError>,
    ) {
        let Some(why) = self.pending.remove(&token) else {
            return;
        };
        if result.is_err() {
            self.stats.store_failures += 1;
        }
        match why {
            Pending::Load(character) => match result {
                Ok(Reply::Social(record)) => self.loaded(now, character, record),
                // The store is down or behind: try again a second later.
                _ => self
                    .to_load
                    .push((character, now + Duration::from_secs(LOAD_RETRY_S))),
            },
            Pending::Friends { a, b, friends } => self.friends_settled(a, b, friends, result),
            Pending::Block { by, whom, blocked } => self.block_settled(by, whom, blocked, result),
            Pending::CreateGuild { founder, name } => {
                self.guild_founded(now, founder, name, result)
            }
            Pending::SaveGuild { guild, .. } => self.guild_saved(now, guild, result.is_ok()),
        }
    }
}
