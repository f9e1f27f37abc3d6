//! What this store last committed of each inventory, so that a commit
//! writes only the rows that changed (see `commit.rs`'s doc for when it is
//! used, forgotten and learnt).

use game_core::economy::Inventory;
use game_core::ids::CharacterId;
use std::collections::HashMap;
use std::sync::Mutex;

/// Inventories remembered at most; past it the memory starts again empty
/// (each is then written whole once more). A few hundred bytes each.
const REMEMBERED: usize = 100_000;

/// What this store last committed of each inventory (see `commit.rs`).
#[derive(Debug, Default)]
pub(in crate::store::sql) struct Written(Mutex<HashMap<CharacterId, Inventory>>);

impl Written {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CharacterId, Inventory>> {
        // A panic while holding it left a map of whole inventories.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes out what is remembered of `character` if it is the stored
    /// state, sequence number `stored`.
    pub(super) fn take(&self, character: CharacterId, stored: u64) -> Option<Inventory> {
        let mut map = self.lock();
        let inv = map.remove(&character)?;
        (inv.seq == stored).then_some(inv)
    }

    pub(in crate::store::sql) fn forget(&self, character: CharacterId) {
        self.lock().remove(&character);
    }

    /// Learns inventories a transaction has committed.
    pub(in crate::store::sql) fn learn(&self, committed: Vec<(CharacterId, Inventory)>) {
        let mut map = self.lock();
        if map.len() + committed.len() > REMEMBERED {
            map.clear();
        }
        map.extend(committed);
    }
}
