//! TEMPORARY: a copy of the lead's in-progress contract (game-core `persist`,
//! `auth::name_key`, the new ids and `CharacterSummary`) so the store builds
//! before the `core16:` commit lands. Removed at the merge of main.
#![allow(dead_code, missing_docs)]

pub mod ids {
    pub use game_core::ids::IntentId;
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
    pub struct AccountId(pub u64);
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
    pub struct CharacterId(pub u64);
}

pub mod auth {
    pub fn name_key(name: &str) -> String {
        name.to_ascii_lowercase()
    }
}

pub mod protocol {
    use super::ids::CharacterId;
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct CharacterSummary {
        pub id: CharacterId,
        pub name: String,
        pub level: u16,
        pub map: String,
    }
}

pub mod persist {
    use super::ids::{AccountId, CharacterId, IntentId};
    use super::protocol::CharacterSummary;
    use game_core::math::Vec2;
    pub use memory::{AccountRecord, MemoryStore, RegisterError};
    /// One change for the store to apply, named by its id.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Intent {
        pub id: IntentId,
        pub change: Change,
    }

    /// What the core can ask a store to do. Each answers with the [`Reply`] named
    /// in its documentation, or a [`StoreError`].
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Change {
        /// A session logs in: the account and its characters, for the character
        /// screen. Answered with [`Reply::Account`]. A development account is
        /// created on first use.
        OpenAccount { account: AccountRef },
        /// A new character at `state`, named `name` (unique across the server, by
        /// [`crate::auth::name_key`]), unless the account already has
        /// `max_characters`. Answered with [`Reply::Characters`].
        CreateCharacter {
            account: AccountId,
            name: String,
            state: CharacterState,
            max_characters: u8,
        },
        /// The account's character is deleted. Answered with [`Reply::Characters`].
        DeleteCharacter {
            account: AccountId,
            character: CharacterId,
        },
        /// The account's character, to play it. Answered with [`Reply::Character`].
        LoadCharacter {
            account: AccountId,
            character: CharacterId,
        },
        /// The character's state at `version`, kept only if newer than the stored
        /// version (a late retry never rolls a newer save back). Answered with
        /// [`Reply::Done`], also when the save was older and so not kept.
        SaveCharacter {
            character: CharacterId,
            version: u64,
            state: CharacterState,
        },
    }

    /// Which account a session logs in to.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum AccountRef {
        /// A registered account, named by a verified login token.
        Id(AccountId),
        /// A development account, named by whatever the client typed (no
        /// password; kept apart from registered accounts, created on first use).
        Dev(String),
    }

    /// What a character is, as the store keeps it.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct CharacterState {
        pub place: Place,
        pub level: u16,
        pub experience: u64,
    }

    /// A spot in the world: a map, the channel last played and a position on it.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Place {
        pub map: String,
        pub channel: u16,
        pub pos: Vec2,
    }

    /// A loaded character: its state and the version of that state.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct CharacterRecord {
        pub id: CharacterId,
        pub account: AccountId,
        pub name: String,
        /// Starts at 0 when created; each kept save sets it.
        pub version: u64,
        pub state: CharacterState,
    }

    impl CharacterRecord {
        /// What the character screen shows of it.
        pub fn summary(&self) -> CharacterSummary {
            CharacterSummary {
                id: self.id,
                name: self.name.clone(),
                level: self.state.level,
                map: self.state.place.map.clone(),
            }
        }
    }

    /// The store's answer to one intent.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Outcome {
        pub id: IntentId,
        pub result: Result<Reply, StoreError>,
    }

    /// What a store answers when it applied (or had already applied) an intent.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Reply {
        /// A save was committed (or was older than the stored state).
        Done,
        /// An opened account: its name and its characters, oldest first.
        Account {
            account: AccountId,
            name: String,
            characters: Vec<CharacterSummary>,
        },
        /// The account's characters after a creation or deletion, oldest first.
        Characters(Vec<CharacterSummary>),
        /// A loaded character.
        Character(CharacterRecord),
    }

    /// Why a store did not apply an intent. The change did not happen.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub enum StoreError {
        /// The store could not be reached, failed to commit or is behind; trying
        /// the same intent again later is safe (rule 1).
        Unavailable,
        /// No such account (a token for an account since removed).
        NoSuchAccount,
        /// No such character on this account.
        NoSuchCharacter,
        /// Another character (on any account) has this name.
        NameTaken,
        /// The account already has its most characters.
        TooManyCharacters,
    }
    pub mod memory {
        use super::{AccountRef, Change, CharacterRecord, Intent, Outcome, Reply, StoreError};
        use crate::store::contract::auth::name_key;
        use crate::store::contract::ids::{AccountId, CharacterId, IntentId};
        use crate::store::contract::protocol::CharacterSummary;
        use std::collections::BTreeMap;

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

            fn new_account(
                &mut self,
                key: String,
                name: &str,
                password_hash: Option<String>,
            ) -> AccountId {
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
    }
}
