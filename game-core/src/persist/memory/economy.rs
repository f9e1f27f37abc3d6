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
        Ok(Reply::Inventory {
            inv: self.inventories.get(&character).cloned().map(Box::new),
            owed: self.owed_rewards(character),
        })
    }

    pub(super) fn commit_tx(
        &mut self,
        parts: &[InventoryPart],
        receipt: &Receipt,
        grants: &[u64],
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
            // Applied before if it is the same transaction: the same receipt,
            // and every inventory still as it left them or moved on past it
            // (a late copy, after later transactions). Another transaction
            // under the same name conflicts, even with an equal receipt: a
            // restarted node that loaded an inventory before its dead
            // predecessor's commit landed decides again under that name, on
            // the state before it, and holds the inventory busy until
            // answered, so it finds the first one's state still there.
            let same = kept == receipt
                && parts.iter().all(|p| {
                    self.inventories
                        .get(&p.character)
                        .is_some_and(|i| i.seq > p.after.seq || *i == p.after)
                });
            return if same {
                Ok(Reply::Done)
            } else {
                Err(StoreError::Conflict)
            };
        }
        if parts.iter().any(|p| seq_of(p.character) != p.before) {
            return Err(StoreError::Conflict);
        }
        if !self.give_rewards(first.character, grants) {
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
                    grants: Vec::new(),
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

    /// Found by the crash sweep: a node crashes with a trade on the wire; its
    /// successor loads the giver's inventory before the trade lands, then
    /// decides a sort under the same name. Sort and trade both have empty
    /// receipts; taken for the trade applied again, the sort's `Done` would
    /// let the giver keep (and sell) the item the taker now holds.
    #[test]
    fn another_transaction_under_a_used_name_conflicts_even_with_an_equal_receipt() {
        use crate::economy::{ItemId, Stack};
        let (mut store, c) = store_with(2);
        let sword = Stack {
            id: ItemId {
                minted_by: c[0],
                tx: 1,
                n: 1,
            },
            def: crate::content::ItemDefId(0),
            count: 1,
            plus: 0,
        };
        let mut armed = at(1, 0);
        armed.slots[3] = Some(sword);
        let part = |c, before, after| InventoryPart {
            character: c,
            before,
            after,
        };
        let send = |store: &mut MemoryStore, id, parts, receipt: Receipt| {
            store
                .apply(&Intent {
                    id: IntentId(id),
                    change: Change::CommitTx {
                        parts,
                        receipt: Box::new(receipt),
                        grants: Vec::new(),
                    },
                })
                .result
        };
        let grant = Receipt {
            minted: vec![(sword.def, 1, Source::Grant)],
            ..Receipt::default()
        };
        let first = vec![part(c[0], 0, armed.clone())];
        assert_eq!(send(&mut store, 1, first, grant), Ok(Reply::Done));
        // The trade: the sword from c0 (1 -> 2) to c1 (0 -> 1).
        let mut gave = at(2, 0);
        gave.slots = vec![None; 4];
        let mut took = at(1, 0);
        took.slots[0] = Some(sword);
        let trade = vec![part(c[0], 1, gave.clone()), part(c[1], 0, took.clone())];
        assert_eq!(
            send(&mut store, 2, trade.clone(), Receipt::default()),
            Ok(Reply::Done)
        );
        // The sort, decided on c0 at seq 1 (sword still there), under the
        // trade's name (c0, 2), with the same (empty) receipt.
        let mut sorted = armed.clone();
        sorted.seq = 2;
        sorted.slots.sort_by_key(|s| s.is_none());
        let sort = vec![part(c[0], 1, sorted)];
        assert_eq!(
            send(&mut store, 3, sort, Receipt::default()),
            Err(StoreError::Conflict)
        );
        assert_eq!(store.inventory(c[0]), Some(&gave));
        // The trade itself again (a retry): applied before.
        assert_eq!(
            send(&mut store, 2, trade, Receipt::default()),
            Ok(Reply::Done)
        );
        assert_eq!(store.ledger().count(), 2);
        assert_eq!(store.inventory(c[1]), Some(&took));
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
                grants: Vec::new(),
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
