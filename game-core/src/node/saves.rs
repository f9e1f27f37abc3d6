//! Saving characters: on leaving, on a map change, and every `save_interval_ms`
//! while playing; a failed save is retried until the store acknowledges it.
//!
//! Each character being played, or left with state the store has not yet
//! acknowledged, is tracked here with the latest state and its version. A
//! save sends the latest version; only one save per character is in flight,
//! and a newer state waits for it (then goes, with a higher version, so a
//! late retry of the older one cannot roll it back). A player who leaves
//! while the store is down keeps its entry until a save lands; logging in
//! again meanwhile plays the tracked state, not the store's older one.

use super::store::Purpose;
use super::{Node, NodeEvent};
use crate::ids::{AccountId, CharacterId, PlayerId};
use crate::persist::{Change, CharacterRecord, CharacterState, Place, Reply, StoreError};
use crate::time::{Duration, Instant};
use crate::timers::TimerSet;
use std::collections::BTreeMap;

/// The first retry of a failed save waits this long; each further failure doubles it.
const FIRST_RETRY_MS: u64 = 500;
const MAX_RETRY_MS: u64 = 16_000;

#[derive(Clone, Debug)]
struct Tracked {
    account: AccountId,
    name: String,
    state: CharacterState,
    /// The version of `state`.
    version: u64,
    /// The highest version the store acknowledged.
    acked: u64,
    /// The place of the save in flight, if one is: reported when it is
    /// acknowledged.
    in_flight: Option<Place>,
    /// The player playing it, while it is in the world.
    playing: Option<PlayerId>,
    retry_ms: u64,
}

#[derive(Debug, Default)]
pub(super) struct Saves {
    tracked: BTreeMap<CharacterId, Tracked>,
    /// Per character: the next periodic save while playing, or the next retry.
    timers: TimerSet<CharacterId>,
    /// Characters of players who left, with state not yet acknowledged.
    leavers: usize,
}

impl Saves {
    /// Experience gained in the world: kept in the tracked state, saved with
    /// the next save.
    pub(super) fn note_progress(&mut self, character: CharacterId, experience: u64, level: u16) {
        if let Some(t) = self.tracked.get_mut(&character) {
            t.state.experience = experience;
            t.state.level = level;
        }
    }

    pub fn unsaved_leavers(&self) -> usize {
        self.leavers
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next().map(|(at, _)| at)
    }

    pub fn pop_due(&mut self, at: Instant) -> Option<CharacterId> {
        self.timers.pop_due(at).map(|(_, c)| c)
    }

    /// The latest state of a tracked character: one being played, or one
    /// left with state not yet saved (played again without a load).
    pub fn record(&self, character: CharacterId) -> Option<CharacterRecord> {
        let t = self.tracked.get(&character)?;
        Some(CharacterRecord {
            id: character,
            account: t.account,
            name: t.name.clone(),
            version: t.version,
            state: t.state.clone(),
        })
    }

    pub fn is_playing(&self, character: CharacterId) -> bool {
        self.tracked
            .get(&character)
            .is_some_and(|t| t.playing.is_some())
    }

    /// The state and version of every tracked character (for tests and invariants).
    pub fn latest(&self, character: CharacterId) -> Option<(u64, &CharacterState)> {
        self.tracked.get(&character).map(|t| (t.version, &t.state))
    }

    fn untrack(&mut self, character: CharacterId) {
        if let Some(t) = self.tracked.remove(&character) {
            if t.playing.is_none() {
                self.leavers -= 1;
            }
        }
        self.timers.set(character, None);
    }
}

impl Node {
    /// `player` starts playing `record`: tracked, with a periodic save.
    pub(super) fn start_playing(
        &mut self,
        now: Instant,
        player: PlayerId,
        record: CharacterRecord,
    ) {
        let interval = Duration::from_millis(self.config.save_interval_ms as u64);
        let saves = &mut self.saves;
        match saves.tracked.get_mut(&record.id) {
            Some(t) => {
                if t.playing.is_none() {
                    saves.leavers -= 1;
                }
                t.playing = Some(player);
            }
            None => {
                saves.tracked.insert(
                    record.id,
                    Tracked {
                        account: record.account,
                        name: record.name,
                        state: record.state,
                        version: record.version,
                        acked: record.version,
                        in_flight: None,
                        playing: Some(player),
                        retry_ms: FIRST_RETRY_MS,
                    },
                );
            }
        }
        saves.timers.set(record.id, Some(now + interval));
    }

    /// The character's state now, from the world: where it stands.
    fn current_state(&self, character: CharacterId) -> Option<CharacterState> {
        let t = self.saves.tracked.get(&character)?;
        let player = self.players.get(t.playing?)?;
        let at = player.location?;
        let zone = self.world.zone(at.zone)?;
        let place = match self.raids.instances.saved_place(character, at.zone) {
            Some(back) => back,
            None => Place {
                map: zone.map().name().to_owned(),
                channel: zone.channel(),
                pos: zone.position(at.entity)?,
            },
        };
        Some(CharacterState {
            place,
            ..t.state.clone()
        })
    }

    /// Saves where the character of `player` stands now.
    pub(super) fn save_playing(&mut self, now: Instant, player: PlayerId) {
        let Some(character) = self.players.get(player).and_then(|p| p.character) else {
            return;
        };
        if let Some(state) = self.current_state(character) {
            self.save_character(now, character, state);
        }
    }

    /// The character stops playing at `state` (its player left the world):
    /// saved, and tracked until the store acknowledges it.
    pub(super) fn stop_playing(&mut self, now: Instant, character: CharacterId, place: Place) {
        let Some(t) = self.saves.tracked.get_mut(&character) else {
            return;
        };
        if t.playing.take().is_some() {
            self.saves.leavers += 1;
        }
        let state = CharacterState {
            place,
            ..t.state.clone()
        };
        self.save_character(now, character, state);
    }

    /// Records a new state and sends it, unless a save is in flight (the
    /// newer state follows when that one is answered).
    fn save_character(&mut self, now: Instant, character: CharacterId, state: CharacterState) {
        let Some(t) = self.saves.tracked.get_mut(&character) else {
            return;
        };
        t.version += 1;
        t.state = state;
        self.send_save(now, character);
    }

    fn send_save(&mut self, now: Instant, character: CharacterId) {
        let Some(t) = self.saves.tracked.get_mut(&character) else {
            return;
        };
        if t.in_flight.is_some() || t.version <= t.acked {
            return;
        }
        let (version, state) = (t.version, t.state.clone());
        t.in_flight = Some(state.place.clone());
        let change = Change::SaveCharacter {
            character,
            version,
            state,
        };
        if self
            .persist(now, change, Purpose::Save { character, version })
            .is_none()
        {
            self.retry_later(now, character);
        }
    }

    fn retry_later(&mut self, now: Instant, character: CharacterId) {
        let Some(t) = self.saves.tracked.get_mut(&character) else {
            return;
        };
        t.in_flight = None;
        let wait = Duration::from_millis(t.retry_ms);
        t.retry_ms = (t.retry_ms * 2).min(MAX_RETRY_MS);
        self.saves
            .timers
            .set_no_later_than(character, Some(now + wait));
    }

    pub(super) fn character_saved(
        &mut self,
        now: Instant,
        character: CharacterId,
        version: u64,
        result: Result<Reply, StoreError>,
    ) {
        match result {
            Ok(_) => {
                let Some(t) = self.saves.tracked.get_mut(&character) else {
                    return;
                };
                let place = t.in_flight.take();
                t.acked = t.acked.max(version);
                t.retry_ms = FIRST_RETRY_MS;
                let done = t.version <= t.acked && t.playing.is_none();
                if let Some(place) = place {
                    self.event(NodeEvent::CharacterSaved {
                        character,
                        version,
                        place,
                    });
                }
                if done {
                    self.saves.untrack(character);
                } else {
                    self.send_save(now, character);
                }
            }
            // Deleted meanwhile: nothing left to save.
            Err(StoreError::NoSuchCharacter) => self.saves.untrack(character),
            Err(_) => self.retry_later(now, character),
        }
    }

    /// A character's timer: the periodic save of one being played, or the
    /// retry of one whose save failed.
    pub(super) fn save_timer(&mut self, now: Instant, character: CharacterId) {
        let Some(t) = self.saves.tracked.get(&character) else {
            return;
        };
        if let Some(player) = t.playing {
            let interval = Duration::from_millis(self.config.save_interval_ms as u64);
            self.saves.timers.set(character, Some(now + interval));
            if let Some(p) = self.players.get(player) {
                if p.location.is_some() {
                    self.save_playing(now, player);
                    return;
                }
            }
        }
        self.send_save(now, character);
    }
}
