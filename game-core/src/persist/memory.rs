//! The reference store: everything in memory, every rule of the contract kept.

use super::{Change, Intent, Outcome, Place};
use crate::ids::IntentId;
use std::collections::{BTreeMap, BTreeSet};

/// A store in memory. It keeps the ids it has applied, so a repeated intent is
/// acknowledged without being applied again.
#[derive(Debug, Default)]
pub struct MemoryStore {
    places: BTreeMap<String, Place>,
    applied: BTreeSet<IntentId>,
}

impl MemoryStore {
    /// Applies an intent once, however often it is given.
    pub fn apply(&mut self, intent: &Intent) -> Outcome {
        if self.applied.insert(intent.id) {
            match &intent.change {
                Change::SavePlace { account, place } => {
                    self.places.insert(account.clone(), place.clone());
                }
            }
        }
        Outcome {
            id: intent.id,
            result: Ok(()),
        }
    }

    /// Where an account's character last stood, as far as this store knows.
    pub fn place(&self, account: &str) -> Option<&Place> {
        self.places.get(account)
    }

    /// Intents applied so far.
    pub fn applied(&self) -> usize {
        self.applied.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::Vec2;

    fn save(id: u64, account: &str, x: i32) -> Intent {
        Intent {
            id: IntentId(id),
            change: Change::SavePlace {
                account: account.into(),
                place: Place {
                    map: "meadow".into(),
                    pos: Vec2::from_ints(x, 0),
                },
            },
        }
    }

    #[test]
    fn an_intent_applied_twice_has_the_effect_of_once() {
        let mut store = MemoryStore::default();
        let first = save(1, "ada", 10);
        assert_eq!(store.apply(&first).result, Ok(()));
        assert_eq!(store.apply(&save(2, "ada", 20)).result, Ok(()));
        // A late retry of the first must not roll the place back.
        let again = store.apply(&first);
        assert_eq!(
            again,
            Outcome {
                id: IntentId(1),
                result: Ok(())
            }
        );
        assert_eq!(store.place("ada").unwrap().pos, Vec2::from_ints(20, 0));
        assert_eq!(store.applied(), 2);
    }
}
