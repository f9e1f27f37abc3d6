//! The entity table: slots, the dense bodies beside them, and each slot's
//! observer and replica rows, kept in step as entities come and go.
//!
//! Entity ids are slot numbers plus one: a lookup is an index, not a search.
//! A freed slot is reused only after the tick that freed it, when every
//! observer has been sent the despawn, and clients apply despawns before
//! spawns, so a reused id never confuses a client.
//!
//! Owns inserting, removing and finding entities. May not move them or decide
//! who sees them (the tick's phases do).

use super::npc::Wanderer;
use super::{Body, Entity, Observer, PlayerPart, Zone};
use crate::ids::EntityId;
use crate::math::Vec2;
use crate::protocol::EntityKind;

impl Zone {
    /// Puts a new entity in a free slot (or a new one) and tells the AOI.
    pub(super) fn insert(
        &mut self,
        kind: EntityKind,
        pos: Vec2,
        player: Option<PlayerPart>,
        npc: Option<Wanderer>,
    ) -> EntityId {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.bodies.push(Body { pos });
                self.observers.push(Observer::default());
                (self.slots.len() - 1) as u32
            }
        };
        let id = EntityId(slot as u64 + 1);
        let is_npc = npc.is_some();
        self.observers[slot as usize] = Observer::new(player.as_ref().map(|p| p.player));
        self.slots[slot as usize] = Some(Entity {
            id,
            vel: Vec2::ZERO,
            player,
            npc,
            fighter: None,
            monster: None,
            since: self.tick,
        });
        self.bodies[slot as usize] = Body { pos };
        self.replicas.set(slot, kind, pos);
        if is_npc {
            if let Err(at) = self.npcs.binary_search(&slot) {
                self.npcs.insert(at, slot);
            }
        }
        self.live += 1;
        self.aoi.insert(id, pos);
        id
    }

    /// Removes an entity; observers see it leave at the next tick.
    pub fn despawn(&mut self, entity: EntityId) -> Option<Vec2> {
        let slot = self.slot_of(entity)?;
        let e = self.slots[slot as usize].take()?;
        self.live -= 1;
        if e.player.is_some() {
            self.players -= 1;
            self.forget_in_threat(entity);
        }
        if e.npc.is_some() {
            self.npcs.retain(|&s| s != slot);
        }
        self.aoi.remove(entity);
        self.observers[slot as usize] = Observer::default();
        self.freed.push(slot);
        Some(self.bodies[slot as usize].pos)
    }

    /// The tick is over: every observer has been sent the despawns of the
    /// slots it freed, so they may be reused.
    pub(super) fn reuse_freed_slots(&mut self) {
        self.free.append(&mut self.freed);
    }

    /// The slot of a live entity (`None` for a stale or unknown id).
    pub(super) fn slot_of(&self, entity: EntityId) -> Option<u32> {
        let slot = usize::try_from(entity.0.checked_sub(1)?).ok()?;
        match self.slots.get(slot)? {
            Some(e) if e.id == entity => Some(slot as u32),
            _ => None,
        }
    }

    /// A live entity by id.
    pub(super) fn get(&self, entity: EntityId) -> Option<&Entity> {
        self.slots[self.slot_of(entity)? as usize].as_ref()
    }
}
