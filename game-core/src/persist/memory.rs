//! The reference store: everything in memory, every rule of the contract kept.
//! The SQL stores and the simulator's faulty store are tested against it.

use super::{AccountRef, Change, CharacterRecord, Intent, Outcome, Reply, StoreError};
use crate::auth::name_key;
use crate::ids::{AccountId, CharacterId, GuildId, IntentId};
use crate::protocol::CharacterSummary;
use std::collections::{BTreeMap, BTreeSet};

mod economy;
mod raids;
mod social;

/// A registered account, as the login service reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub name: String,
    /// The password's Argon2id hash, in the PHC string format.
    pub password_hash: String,
}

/// Why registering an account failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterError {
    /// An account with this name (by [`name_key`]) exists.
    NameTaken,
}

#[derive(Clone, Debug)]
struct Account {
    name: String,
    /// `None` for a development account.
    password_hash: Option<String>,
}

#[derive(Clone, Debug)]
struct Character {
    record: CharacterRecord,
    /// The intent that created it: the same creation again answers as the first.
    created_by: IntentId,
}

/// A store in memory. Ids are handed out in order from 1, as a SQL sequence does.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    accounts: BTreeMap<AccountId, Account>,
    /// Registered accounts by [`name_key`]; development ones by `"dev:" + name`.
    account_keys: BTreeMap<String, AccountId>,
    characters: BTreeMap<CharacterId, Character>,
    character_names: BTreeMap<String, CharacterId>,
    next_account: u64,
    next_character: u64,
    /// Friendships, each pair once, the lower id first.
    friends: BTreeSet<(CharacterId, CharacterId)>,
    /// (blocker, blocked).
    blocks: BTreeSet<(CharacterId, CharacterId)>,
    guilds: BTreeMap<GuildId, social::StoredGuild>,
    /// Guilds by [`crate::social::guild_name_key`].
    guild_names: BTreeMap<String, GuildId>,
    next_guild: u64,
    inventories: BTreeMap<CharacterId, crate::economy::Inventory>,
    /// Every committed transaction's receipt, by its first part's character
    /// and sequence number.
    ledger: BTreeMap<(CharacterId, u64), crate::economy::Receipt>,
    /// Raid leaderboards: each entrant's best run.
    raid_boards: BTreeMap<raids::BoardKey, raids::StoredBoard>,
    /// Owed raid rewards by (character, run): the reward, and whether a
    /// transaction gave it.
    raid_rewards: BTreeMap<(CharacterId, u64), (crate::persist::RaidReward, bool)>,
}

impl MemoryStore {
    /// Applies an intent, keeping rule 1: the same intent again has no further
    /// effect and answers the same.
    pub fn apply(&mut self, intent: &Intent) -> Outcome {
        let result = match &intent.change {
            Change::OpenAccount { account } => self.open_account(account),
            Change::CreateCharacter {
                account,
                name,
                state,
                max_characters,
            } => self.create_character(intent.id, *account, name, state, *max_characters),
            Change::DeleteCharacter { account, character } => {
                if self.owned(*account, *character) {
                    let gone = self.characters.remove(character).expect("owned");
                    self.character_names.remove(&name_key(&gone.record.name));
                    self.forget_social(*character);
                    self.forget_inventory(*character);
                    self.forget_raids(*character);
                }
                self.known(*account)
                    .map(|()| Reply::Characters(self.summaries(*account)))
            }
            Change::LoadCharacter { account, character } => {
                if self.owned(*account, *character) {
                    Ok(Reply::Character(self.characters[character].record.clone()))
                } else {
                    Err(StoreError::NoSuchCharacter)
                }
            }
            Change::SaveCharacter {
                character,
                version,
                state,
            } => match self.characters.get_mut(character) {
                Some(c) => {
                    if *version > c.record.version {
                        c.record.version = *version;
                        c.record.state = state.clone();
                    }
                    Ok(Reply::Done)
                }
                None => Err(StoreError::NoSuchCharacter),
            },
            Change::LoadSocial { character } => self.load_social(*character),
            Change::SetFriends { a, b, friends } => self.set_friends(*a, *b, *friends),
            Change::SetBlocked { by, whom, blocked } => self.set_blocked(*by, *whom, *blocked),
            Change::CreateGuild { name, founder } => self.create_guild(intent.id, name, *founder),
            Change::SaveGuild {
                guild,
                version,
                state,
            } => self.save_guild(*guild, *version, state),
            Change::LoadInventory { character } => self.load_inventory(*character),
            Change::CommitTx {
                parts,
                receipt,
                grants,
            } => self.commit_tx(parts, receipt, grants),
            Change::RecordRaid { run } => self.record_raid(run),
            Change::LoadLeaderboard {
                raid,
                level_group,
                board,
                top,
                character,
            } => {
                let (top, own) = self.leaderboard(raid, *level_group, *board, *top, *character);
                Ok(Reply::Leaderboard { top, own })
            }
        };
        Outcome {
            id: intent.id,
            result,
        }
    }

    /// Registers an account for the login service.
    pub fn register(
        &mut self,
        name: &str,
        password_hash: &str,
    ) -> Result<AccountId, RegisterError> {
        let key = name_key(name);
        if self.account_keys.contains_key(&key) {
            return Err(RegisterError::NameTaken);
        }
        let id = self.new_account(key, name, Some(password_hash.to_owned()));
        Ok(id)
    }

    /// A registered account by name (any case), for the login service.
    pub fn find_account(&self, name: &str) -> Option<AccountRecord> {
        let id = *self.account_keys.get(&name_key(name))?;
        let account = &self.accounts[&id];
        Some(AccountRecord {
            id,
            name: account.name.clone(),
            password_hash: account.password_hash.clone()?,
        })
    }

    /// A character as stored, whoever owns it (for tests and invariants).
    pub fn character(&self, id: CharacterId) -> Option<&CharacterRecord> {
        self.characters.get(&id).map(|c| &c.record)
    }

    /// Every stored character, by id.
    pub fn characters(&self) -> impl Iterator<Item = &CharacterRecord> {
        self.characters.values().map(|c| &c.record)
    }

    fn open_account(&mut self, account: &AccountRef) -> Result<Reply, StoreError> {
        let id = match account {
            AccountRef::Id(id) if self.accounts.contains_key(id) => *id,
            AccountRef::Id(_) => return Err(StoreError::NoSuchAccount),
            AccountRef::Dev(name) => {
                let key = format!("dev:{name}");
                match self.account_keys.get(&key) {
                    Some(id) => *id,
                    None => self.new_account(key, name, None),
                }
            }
        };
        Ok(Reply::Account {
            account: id,
            name: self.accounts[&id].name.clone(),
            characters: self.summaries(id),
        })
    }

    fn create_character(
        &mut self,
        intent: IntentId,
        account: AccountId,
        name: &str,
        state: &super::CharacterState,
        max_characters: u8,
    ) -> Result<Reply, StoreError> {
        self.known(account)?;
        let key = name_key(name);
        if let Some(existing) = self.character_names.get(&key) {
            let c = &self.characters[existing];
            if c.created_by == intent && c.record.account == account {
                return Ok(Reply::Characters(self.summaries(account)));
            }
            return Err(StoreError::NameTaken);
        }
        if self.count(account) >= max_characters as usize {
            return Err(StoreError::TooManyCharacters);
        }
        self.next_character += 1;
        let id = CharacterId(self.next_character);
        self.character_names.insert(key, id);
        self.characters.insert(
            id,
            Character {
                record: CharacterRecord {
                    id,
                    account,
                    name: name.to_owned(),
                    version: 0,
                    state: state.clone(),
                },
                created_by: intent,
            },
        );
        Ok(Reply::Characters(self.summaries(account)))
    }

    fn new_account(&mut self, key: String, name: &str, password_hash: Option<String>) -> AccountId {
        self.next_account += 1;
        let id = AccountId(self.next_account);
        self.account_keys.insert(key, id);
        self.accounts.insert(
            id,
            Account {
                name: name.to_owned(),
                password_hash,
            },
        );
        id
    }

    fn known(&self, account: AccountId) -> Result<(), StoreError> {
        if self.accounts.contains_key(&account) {
            Ok(())
        } else {
            Err(StoreError::NoSuchAccount)
        }
    }

    fn owned(&self, account: AccountId, character: CharacterId) -> bool {
        self.characters
            .get(&character)
            .is_some_and(|c| c.record.account == account)
    }

    fn count(&self, account: AccountId) -> usize {
        self.characters
            .values()
            .filter(|c| c.record.account == account)
            .count()
    }

    /// The account's characters, oldest (lowest id) first.
    fn summaries(&self, account: AccountId) -> Vec<CharacterSummary> {
        self.characters
            .values()
            .filter(|c| c.record.account == account)
            .map(|c| c.record.summary())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::Vec2;
    use crate::persist::{CharacterState, Place};

    fn state(x: i32) -> CharacterState {
        CharacterState {
            place: Place {
                map: "meadow".into(),
                channel: 0,
                pos: Vec2::from_ints(x, 0),
            },
            level: 1,
            experience: 0,
        }
    }

    fn intent(id: u64, change: Change) -> Intent {
        Intent {
            id: IntentId(id),
            change,
        }
    }

    fn dev_account(store: &mut MemoryStore, name: &str) -> AccountId {
        match store
            .apply(&intent(
                100,
                Change::OpenAccount {
                    account: AccountRef::Dev(name.into()),
                },
            ))
            .result
        {
            Ok(Reply::Account { account, .. }) => account,
            other => panic!("{other:?}"),
        }
    }

    fn create(id: u64, account: AccountId, name: &str) -> Intent {
        intent(
            id,
            Change::CreateCharacter {
                account,
                name: name.into(),
                state: state(0),
                max_characters: 2,
            },
        )
    }

    fn save(id: u64, character: CharacterId, version: u64, x: i32) -> Intent {
        intent(
            id,
            Change::SaveCharacter {
                character,
                version,
                state: state(x),
            },
        )
    }

    #[test]
    fn a_late_retry_of_a_save_never_rolls_a_newer_one_back() {
        let mut store = MemoryStore::default();
        let ada = dev_account(&mut store, "ada");
        store.apply(&create(1, ada, "Ada"));
        let c = CharacterId(1);
        let first = save(2, c, 1, 10);
        assert_eq!(store.apply(&first).result, Ok(Reply::Done));
        assert_eq!(store.apply(&save(3, c, 2, 20)).result, Ok(Reply::Done));
        assert_eq!(store.apply(&first).result, Ok(Reply::Done));
        let stored = store.character(c).unwrap();
        assert_eq!(
            (stored.version, stored.state.place.pos),
            (2, Vec2::from_ints(20, 0))
        );
    }

    #[test]
    fn the_same_creation_twice_makes_one_character_and_answers_the_same() {
        let mut store = MemoryStore::default();
        let ada = dev_account(&mut store, "ada");
        let first = store.apply(&create(1, ada, "Ada"));
        assert_eq!(store.apply(&create(1, ada, "Ada")), first);
        assert_eq!(store.characters().count(), 1);
        // Another intent for the same name, in any case, is refused.
        assert_eq!(
            store.apply(&create(2, ada, "ADA")).result,
            Err(StoreError::NameTaken)
        );
        store.apply(&create(3, ada, "Bea"));
        assert_eq!(
            store.apply(&create(4, ada, "Cyd")).result,
            Err(StoreError::TooManyCharacters)
        );
    }

    #[test]
    fn names_are_unique_across_accounts_and_deleting_twice_is_once() {
        let mut store = MemoryStore::default();
        let ada = dev_account(&mut store, "ada");
        let bob = dev_account(&mut store, "bob");
        store.apply(&create(1, ada, "Ada"));
        assert_eq!(
            store.apply(&create(2, bob, "ada")).result,
            Err(StoreError::NameTaken)
        );
        let delete = intent(
            3,
            Change::DeleteCharacter {
                account: bob,
                character: CharacterId(1),
            },
        );
        // Bob cannot delete Ada's character.
        assert_eq!(store.apply(&delete).result, Ok(Reply::Characters(vec![])));
        assert!(store.character(CharacterId(1)).is_some());
        let delete = intent(
            4,
            Change::DeleteCharacter {
                account: ada,
                character: CharacterId(1),
            },
        );
        assert_eq!(store.apply(&delete).result, Ok(Reply::Characters(vec![])));
        assert_eq!(store.apply(&delete).result, Ok(Reply::Characters(vec![])));
        assert!(store.apply(&create(5, bob, "ada")).result.is_ok());
    }

    #[test]
    fn registered_and_development_accounts_never_meet() {
        let mut store = MemoryStore::default();
        let ada = store.register("Ada", "$argon2id$hash").unwrap();
        assert_eq!(store.register("ADA", "x"), Err(RegisterError::NameTaken));
        assert_eq!(store.find_account("aDa").unwrap().id, ada);
        let dev = dev_account(&mut store, "Ada");
        assert_ne!(dev, ada);
        assert_eq!(store.find_account("Ada").unwrap().id, ada);
        assert_eq!(dev_account(&mut store, "Ada"), dev);
        let open = |id| {
            intent(
                7,
                Change::OpenAccount {
                    account: AccountRef::Id(id),
                },
            )
        };
        assert!(matches!(
            store.apply(&open(ada)).result,
            Ok(Reply::Account { account, .. }) if account == ada
        ));
        assert_eq!(
            store.apply(&open(AccountId(99))).result,
            Err(StoreError::NoSuchAccount)
        );
    }
}
