//! Invariants of persistence, beside `invariants/` (which checks the
//! world): what the store acknowledged is never lost, a character is in the
//! world at most once and only for its account, and a character loaded
//! (after a node restart, or later) comes back at least as new as the last
//! save the node saw acknowledged.
//!
//! The checker is fed what the simulator sees pass between node and store:
//! each save the node sends (so an acknowledged version is known with its
//! state), each `CharacterSaved` the node emits, each load answer delivered.

use game_core::ids::{AccountId, CharacterId, PlayerId};
use game_core::persist::{CharacterRecord, CharacterState, MemoryStore};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the checks counted (for the report: each invariant ran, and how often).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PersistCounts {
    /// `CharacterSaved` events seen.
    pub saves_acknowledged: u64,
    /// Characters with an acknowledged save, checked against the store at each check.
    pub characters_with_acked_saves: u64,
    /// Load answers checked against the last acknowledged save.
    pub loads_checked: u64,
    /// Of those, the first load of a character after a node restart.
    pub loads_after_restart: u64,
    /// Characters in the world (or loading) checked for one player and its account.
    pub players_checked: u64,
}

#[derive(Debug, Default)]
pub struct PersistChecker {
    /// Saves the node sent that are not yet acknowledged, by (character, version).
    sent: BTreeMap<(CharacterId, u64), CharacterState>,
    /// The newest acknowledged save of each character, with its state.
    acked: BTreeMap<CharacterId, (u64, CharacterState)>,
    /// Characters not loaded since the last node restart.
    unloaded_since_restart: BTreeMap<CharacterId, ()>,
    counts: PersistCounts,
}

impl PersistChecker {
    pub fn counts(&self) -> PersistCounts {
        PersistCounts {
            characters_with_acked_saves: self.acked.len() as u64,
            ..self.counts.clone()
        }
    }

    /// The node sent a save of `character` at `version`.
    pub fn save_sent(&mut self, character: CharacterId, version: u64, state: &CharacterState) {
        self.sent.insert((character, version), state.clone());
    }

    /// The node emitted `CharacterSaved { character, version }`.
    pub fn saved(&mut self, character: CharacterId, version: u64) -> Result<(), String> {
        self.counts.saves_acknowledged += 1;
        let Some(state) = self.sent.remove(&(character, version)) else {
            return Err(format!(
                "lost save: {character:?} acknowledged at version {version}, which the node never sent"
            ));
        };
        // Sends of older versions can no longer be acknowledged as news.
        let older: Vec<_> = self
            .sent
            .range((character, 0)..(character, version))
            .map(|(k, _)| *k)
            .collect();
        for k in older {
            self.sent.remove(&k);
        }
        let newer = self
            .acked
            .get(&character)
            .is_none_or(|(v, _)| version >= *v);
        if newer {
            self.acked.insert(character, (version, state));
        }
        Ok(())
    }

    /// The node restarted: every character's next load is a load after a restart.
    pub fn node_restarted(&mut self) {
        self.sent.clear();
        self.unloaded_since_restart = self.acked.keys().map(|&c| (c, ())).collect();
    }

    /// A load answer reaches the node: at least the last acknowledged save.
    pub fn loaded(&mut self, record: &CharacterRecord) -> Result<(), String> {
        self.counts.loads_checked += 1;
        let after_restart = self.unloaded_since_restart.remove(&record.id).is_some();
        self.counts.loads_after_restart += u64::from(after_restart);
        let Some((version, state)) = self.acked.get(&record.id) else {
            return Ok(());
        };
        let when = if after_restart {
            "after a node restart"
        } else {
            "later"
        };
        if record.version < *version {
            return Err(format!(
                "stale load {when}: {:?} loaded at version {}, acknowledged {version}",
                record.id, record.version
            ));
        }
        if record.version == *version && record.state != *state {
            return Err(format!(
                "stale load {when}: {:?} loaded at version {version} with another state than was acknowledged",
                record.id
            ));
        }
        Ok(())
    }

    /// No acknowledged save is lost: the store's committed state holds each
    /// at its version or newer.
    pub fn check_store(&self, store: &MemoryStore) -> Vec<String> {
        let mut failures = Vec::new();
        for (&character, (version, state)) in &self.acked {
            match store.character(character) {
                None => failures.push(format!(
                    "lost save: {character:?} acknowledged at version {version} is not in the store"
                )),
                Some(r) if r.version < *version => failures.push(format!(
                    "lost save: {character:?} acknowledged at version {version}, the store holds {}",
                    r.version
                )),
                Some(r) if r.version == *version && r.state != *state => failures.push(format!(
                    "lost save: {character:?} at version {version} holds another state than was acknowledged"
                )),
                Some(_) => {}
            }
        }
        failures
    }

    /// No character is loaded twice: each played by at most one player, and
    /// a player's character is its account's (by the store's committed state).
    pub fn check_players(
        &mut self,
        players: impl Iterator<Item = (PlayerId, AccountId, Option<CharacterId>)>,
        store: &MemoryStore,
    ) -> Vec<String> {
        let mut failures = Vec::new();
        let mut playing: Vec<(CharacterId, PlayerId)> = Vec::new();
        for (player, account, character) in players {
            let Some(character) = character else { continue };
            self.counts.players_checked += 1;
            playing.push((character, player));
            match store.character(character) {
                Some(r) if r.account == account => {}
                Some(r) => failures.push(format!(
                    "foreign character: {player:?} of {account:?} plays {character:?} of {:?}",
                    r.account
                )),
                None => failures.push(format!(
                    "unknown character: {player:?} of {account:?} plays {character:?}, not in the store"
                )),
            }
        }
        playing.sort_unstable();
        for run in playing.chunk_by(|a, b| a.0 == b.0) {
            if run.len() > 1 {
                let players: Vec<_> = run.iter().map(|(_, p)| *p).collect();
                failures.push(format!(
                    "loaded twice: {:?} played by {players:?}",
                    run[0].0
                ));
            }
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::ids::IntentId;
    use game_core::math::Vec2;
    use game_core::persist::{AccountRef, Change, Intent, Place, Reply};

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

    /// A store with account 1 (ann, character 1) and account 2 (bob, character 2).
    fn store() -> MemoryStore {
        let mut s = MemoryStore::default();
        let mut id = 0;
        let mut apply = |s: &mut MemoryStore, change| {
            id += 1;
            s.apply(&Intent {
                id: IntentId(id),
                change,
            })
        };
        for (account, name) in [(1, "ann"), (2, "bob")] {
            let out = apply(
                &mut s,
                Change::OpenAccount {
                    account: AccountRef::Dev(name.into()),
                },
            );
            assert!(matches!(out.result, Ok(Reply::Account { .. })));
            apply(
                &mut s,
                Change::CreateCharacter {
                    account: AccountId(account),
                    name: name.into(),
                    state: state(0),
                    max_characters: 4,
                },
            );
        }
        s
    }

    fn save(s: &mut MemoryStore, character: u64, version: u64, x: i32) {
        s.apply(&Intent {
            id: IntentId(100 + version),
            change: Change::SaveCharacter {
                character: CharacterId(character),
                version,
                state: state(x),
            },
        });
    }

    #[test]
    fn an_acknowledged_save_the_store_lost_is_caught() {
        let mut s = store();
        let mut c = PersistChecker::default();
        let ann = CharacterId(1);
        c.save_sent(ann, 1, &state(5));
        c.save_sent(ann, 2, &state(6));
        save(&mut s, 1, 1, 5);
        c.saved(ann, 1).unwrap();
        assert!(c.check_store(&s).is_empty());
        // Acknowledged at 2, but the store never got it (a store that
        // answers before committing, or loses a commit in a crash).
        c.saved(ann, 2).unwrap();
        let f = c.check_store(&s);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("lost save"), "{f:?}");
        // Same version, another state: a different node's save won.
        save(&mut s, 1, 2, 99);
        let f = c.check_store(&s);
        assert!(f[0].contains("another state"), "{f:?}");
        save(&mut s, 1, 3, 7);
        assert!(c.check_store(&s).is_empty());
        // An acknowledgement of something never sent is itself a failure.
        assert!(c.saved(ann, 9).is_err());
    }

    #[test]
    fn a_character_played_twice_or_by_another_account_is_caught() {
        let s = store();
        let mut c = PersistChecker::default();
        let ok = [
            (PlayerId(1), AccountId(1), Some(CharacterId(1))),
            (PlayerId(2), AccountId(2), Some(CharacterId(2))),
            (PlayerId(3), AccountId(3), None),
        ];
        assert!(c.check_players(ok.into_iter(), &s).is_empty());
        let twice = [
            (PlayerId(1), AccountId(1), Some(CharacterId(1))),
            (PlayerId(2), AccountId(1), Some(CharacterId(1))),
        ];
        let f = c.check_players(twice.into_iter(), &s);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("loaded twice"), "{f:?}");
        let foreign = [(PlayerId(2), AccountId(2), Some(CharacterId(1)))];
        let f = c.check_players(foreign.into_iter(), &s);
        assert!(f[0].contains("foreign character"), "{f:?}");
        assert_eq!(c.counts().players_checked, 5);
    }

    #[test]
    fn a_load_older_than_the_last_acknowledged_save_is_caught() {
        let mut s = store();
        let mut c = PersistChecker::default();
        let ann = CharacterId(1);
        c.save_sent(ann, 1, &state(5));
        save(&mut s, 1, 1, 5);
        c.saved(ann, 1).unwrap();
        c.node_restarted();
        let mut record = s.character(ann).unwrap().clone();
        assert!(c.loaded(&record).is_ok());
        assert_eq!(c.counts().loads_after_restart, 1);
        // The state the store rolled back to (version 0) comes back.
        record.version = 0;
        let e = c.loaded(&record).unwrap_err();
        assert!(e.contains("stale load"), "{e}");
        // The acknowledged version with another state.
        record.version = 1;
        record.state = state(6);
        assert!(c.loaded(&record).is_err());
        assert_eq!(c.counts().loads_checked, 3);
    }
}
