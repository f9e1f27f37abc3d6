//! The reference store's economy: inventories and the ledger of every
//! committed transaction's receipt.

use super::MemoryStore;
use crate::economy::{Inventory, Receipt};
use crate::ids::CharacterId;
use crate::persist::{InventoryPart, Reply, StoreError};

impl MemoryStore {
    pub(super) fn load_inventory(&self, character: CharacterId) -> Result<Reply, StoreError> {
        if !self.characters.contains_key(&character) {
            return Err(StoreError::NoSuchCharacter);
        }
        Ok(Reply::Inventory(
            self.inventories.get(&character).cloned().map(Box::new),
        ))
    }

    pub(super) fn commit_tx(
        &mut self,
        parts: &[InventoryPart],
        receipt: &Receipt,
    ) -> Result<Reply, StoreError> {
        let Some(first) = parts.first() else {
            return Err(StoreError::Conflict);
        };
        if !super::super::well_formed(parts) {
            return Err(StoreError::Conflict);
        }
        let seq_of = |c: CharacterId| self.inventories.get(&c).map_or(0, |i| i.seq);
        if parts
            .iter()
            .any(|p| !self.characters.contains_key(&p.character))
        {
            return Err(StoreError::NoSuchCharacter);
        }
        let name = (first.character, first.after.seq);
        if let Some(kept) = self.ledger.get(&name) {
            // Applied before: the same answer. Another transaction under the
            // same name was decided on a state that did not last.
            return if kept == receipt {
                Ok(Reply::Done)
            } else {
                Err(StoreError::Conflict)
            };
        }
        if parts.iter().any(|p| seq_of(p.character) != p.before) {
            return Err(StoreError::Conflict);
        }
        for p in parts {
            self.inventories.insert(p.character, p.after.clone());
        }
        self.ledger
            .insert((first.character, first.after.seq), receipt.clone());
        Ok(Reply::Done)
    }

    /// A deleted character's inventory is gone: its items and gold go to
    /// the ledger as deleted, so the totals still add up.
    pub(super) fn forget_inventory(&mut self, character: CharacterId) {
        let Some(inv) = self.inventories.remove(&character) else {
            return;
        };
        let receipt = Receipt::deleted(&inv);
        self.ledger
            .insert((character, inv.seq.wrapping_add(1)), receipt);
    }

    /// A stored inventory (for tests and the simulator's checks).
    pub fn inventory(&self, character: CharacterId) -> Option<&Inventory> {
        self.inventories.get(&character)
    }

    /// Every stored inventory, by character.
    pub fn inventories(&self) -> impl Iterator<Item = (CharacterId, &Inventory)> {
        self.inventories.iter().map(|(&c, i)| (c, i))
    }

    /// The receipt of the committed transaction named `name`, if any.
    pub fn receipt(&self, name: (CharacterId, u64)) -> Option<&Receipt> {
        self.ledger.get(&name)
    }

    /// Every committed transaction's receipt, by its name.
    pub fn ledger(&self) -> impl Iterator<Item = (&(CharacterId, u64), &Receipt)> {
        self.ledger.iter()
    }
}

#[cfg(test)]
mod tests {
    use crate::economy::{Inventory, Receipt, Source};
    use crate::ids::{CharacterId, IntentId};
    use crate::persist::{
        AccountRef, Change, CharacterState, Intent, InventoryPart, MemoryStore, Place, Reply,
        StoreError,
    };

    fn store_with(n: usize) -> (MemoryStore, Vec<CharacterId>) {
        let mut store = MemoryStore::default();
        let mut ids = Vec::new();
        for i in 0..n {
            let name = format!("c{i}");
            let open = store.apply(&Intent {
                id: IntentId(100 + i as u64),
                change: Change::OpenAccount {
                    account: AccountRef::Dev(name.clone()),
                },
            });
            let Ok(Reply::Account { account, .. }) = open.result else {
                panic!()
            };
            let made = store.apply(&Intent {
                id: IntentId(200 + i as u64),
                change: Change::CreateCharacter {
                    account,
                    name,
                    state: CharacterState {
                        place: Place {
                            map: "meadow".into(),
                            channel: 1,
                            pos: crate::math::Vec2::from_ints(1, 1),
                        },
                        level: 1,
                        experience: 0,
                    },
                    max_characters: 4,
                },
            });
            let Ok(Reply::Characters(list)) = made.result else {
                panic!()
            };
            ids.push(list[0].id);
        }
        (store, ids)
    }

    fn commit(
        store: &mut MemoryStore,
        id: u64,
        parts: Vec<InventoryPart>,
    ) -> Result<Reply, StoreError> {
        let receipt = Receipt {
            gold_in: vec![(10, Source::Grant)],
            ..Receipt::default()
        };
        store
            .apply(&Intent {
                id: IntentId(id),
                change: Change::CommitTx {
                    parts,
                    receipt: Box::new(receipt),
                },
            })
            .result
    }

    fn at(seq: u64, gold: u64) -> Inventory {
        Inventory {
            gold,
            seq,
            ..Inventory::new(4)
        }
    }

    #[test]
    fn a_transaction_applies_once_and_a_stale_one_conflicts() {
        let (mut store, c) = store_with(2);
        let part = |c, before, after| InventoryPart {
            character: c,
            before,
            after,
        };
        let first = vec![part(c[0], 0, at(1, 10))];
        assert_eq!(commit(&mut store, 1, first.clone()), Ok(Reply::Done));
        // The same again (a retry): applied before, the same answer.
        assert_eq!(commit(&mut store, 1, first), Ok(Reply::Done));
        assert_eq!(store.ledger().count(), 1);
        // Decided on an inventory the store no longer holds.
        let stale = vec![part(c[0], 0, at(1, 99))];
        let other = Receipt::default();
        let out = store.apply(&Intent {
            id: IntentId(2),
            change: Change::CommitTx {
                parts: stale,
                receipt: Box::new(other),
            },
        });
        assert_eq!(out.result, Err(StoreError::Conflict));
        assert_eq!(store.inventory(c[0]).unwrap().gold, 10);
        // A part that does not move its inventory one step on, or a
        // character named twice: not a transaction.
        let jump = vec![part(c[0], 1, at(3, 1))];
        assert_eq!(commit(&mut store, 4, jump), Err(StoreError::Conflict));
        let twice = vec![part(c[0], 1, at(2, 1)), part(c[0], 1, at(2, 1))];
        assert_eq!(commit(&mut store, 5, twice), Err(StoreError::Conflict));
        // Two parts: all or nothing.
        let trade = vec![part(c[0], 1, at(2, 5)), part(c[1], 7, at(8, 5))];
        assert_eq!(commit(&mut store, 3, trade), Err(StoreError::Conflict));
        assert_eq!(store.inventory(c[0]).unwrap().seq, 1);
        assert!(store.inventory(c[1]).is_none());
    }
}
