//! An inventory's life on the node: loaded from the store as its character
//! enters the world (with the raid rewards the store owes it, given then),
//! loaded again after a failure or a conflict, and forgotten as it leaves
//! unless a transaction on it is still in flight.

use super::economy::{Held, INVENTORY_SLOTS, RETRY_MS};
use super::store::Purpose;
use super::Node;
use crate::economy::Inventory;
use crate::ids::{CharacterId, PlayerId};
use crate::persist::{Change, Reply, StoreError};
use crate::time::{Duration, Instant};

impl Node {
    /// A character entered the world: its inventory is loaded (unless the
    /// node still holds it, which is then shown again).
    pub(super) fn wallet_entered(
        &mut self,
        now: Instant,
        player: PlayerId,
        character: CharacterId,
    ) {
        if let Some(h) = self.wallets.held.get_mut(&character) {
            h.playing = true;
            h.player = player;
            self.send_economy_views(now, character);
            return;
        }
        self.wallets.held.insert(character, Held::new(player));
        self.load_inventory(now, character);
    }

    pub(super) fn load_inventory(&mut self, now: Instant, character: CharacterId) {
        if !self.wallets.held.get(&character).is_some_and(|h| h.playing) {
            return;
        }
        let change = Change::LoadInventory { character };
        if self
            .persist(now, change, Purpose::Inventory { character })
            .is_none()
        {
            self.reload_later(now, character);
        }
    }

    fn reload_later(&mut self, now: Instant, character: CharacterId) {
        let at = now + Duration::from_millis(RETRY_MS);
        self.wallets.reloads.set(character, Some(at));
    }

    /// A character left the world: its trade ends and its pass progress is
    /// stored; then it is forgotten, unless a transaction on it is in
    /// flight (then once that is settled).
    pub(super) fn wallet_left(&mut self, now: Instant, character: CharacterId) {
        self.trade_left(now, character);
        self.save_missions(now, character);
        if let Some(h) = self.wallets.held.get_mut(&character) {
            h.playing = false;
            if !h.busy {
                self.wallets.held.remove(&character);
            }
        }
    }

    pub(super) fn inventory_loaded(
        &mut self,
        now: Instant,
        character: CharacterId,
        result: Result<Reply, StoreError>,
    ) {
        let Some(h) = self.wallets.held.get_mut(&character) else {
            return;
        };
        match result {
            Ok(Reply::Inventory { inv, owed }) => {
                h.inv = Some(inv.map_or_else(|| Inventory::new(INVENTORY_SLOTS), |b| *b));
                self.wear_gear(character);
                self.send_economy_views(now, character);
                // Loaded again after a conflict: what its trade offers may
                // be something else now.
                self.trade_inventory_reloaded(now, character);
                // Raid rewards owed from an earlier life of the node, or a
                // run answered after its instance closed.
                self.give_stored_rewards(now, character, owed);
            }
            // The store failed: asked again a second later.
            _ => self.reload_later(now, character),
        }
    }
}
