//! The test harness of the social layer: a `Social` against the reference
//! store, characters by index, and what each heard.

use super::*;
use crate::ids::IntentId;
use crate::math::Vec2;
use crate::persist::{AccountRef, CharacterState, Intent, MemoryStore, Place};
use crate::persist::{Reply, StoreError};
use crate::protocol::{ChatChannel, ChatLine};
use crate::time::Duration;
use std::collections::BTreeMap;

pub(super) struct H {
    pub(super) s: Social,
    pub(super) store: MemoryStore,
    pub(super) now: Instant,
    pub(super) ids: Vec<CharacterId>,
    accounts: Vec<crate::ids::AccountId>,
    pub(super) names: Vec<String>,
    out: Deliveries,
    pub(super) inbox: BTreeMap<CharacterId, Vec<ServerSocial>>,
    next_intent: u64,
    /// The store fails every change while set.
    pub(super) store_down: bool,
    /// While set, changes wait here for [`H::release`].
    pub(super) hold: bool,
    held: Vec<(SocialToken, Change)>,
}

impl H {
    pub(super) fn new(names: &[&str]) -> Self {
        Self::with_config(SocialConfig::default(), names)
    }

    /// [`H::new`], with every character in the world (meadow, channel 1).
    pub(super) fn entered(names: &[&str]) -> Self {
        let mut h = Self::new(names);
        for i in 0..names.len() {
            h.enter(i);
        }
        h
    }

    pub(super) fn with_config(config: SocialConfig, names: &[&str]) -> Self {
        let mut h = H {
            s: Social::new(config),
            store: MemoryStore::default(),
            now: Instant::from_micros(1_000_000),
            ids: Vec::new(),
            accounts: Vec::new(),
            names: names.iter().map(|n| n.to_string()).collect(),
            out: Deliveries::default(),
            inbox: BTreeMap::new(),
            next_intent: 0,
            store_down: false,
            hold: false,
            held: Vec::new(),
        };
        for name in names {
            let account = match h.apply(Change::OpenAccount {
                account: AccountRef::Dev(name.to_string()),
            }) {
                Ok(Reply::Account { account, .. }) => account,
                other => panic!("{other:?}"),
            };
            let created = h.apply(Change::CreateCharacter {
                account,
                name: name.to_string(),
                state: CharacterState {
                    place: Place {
                        map: "meadow".into(),
                        channel: 1,
                        pos: Vec2::from_ints(1, 1),
                    },
                    level: 1,
                    experience: 0,
                },
                max_characters: 4,
            });
            let Ok(Reply::Characters(list)) = created else {
                panic!("{created:?}");
            };
            h.ids.push(list[0].id);
            h.accounts.push(account);
        }
        h
    }

    pub(super) fn apply(&mut self, change: Change) -> Result<Reply, StoreError> {
        self.next_intent += 1;
        self.store
            .apply(&Intent {
                id: IntentId(self.next_intent),
                change,
            })
            .result
    }

    pub(super) fn id(&self, i: usize) -> CharacterId {
        self.ids[i]
    }

    pub(super) fn enter_at(&mut self, i: usize, map: &str, channel: u16) {
        let at = Whereabouts {
            map: map.into(),
            channel,
        };
        self.s.entered(self.ids[i], &self.names[i].clone(), at);
        self.settle();
    }

    pub(super) fn enter(&mut self, i: usize) {
        self.enter_at(i, "meadow", 1);
    }

    /// Answers every store change asked for, then collects deliveries.
    pub(super) fn settle(&mut self) {
        while let Some((token, change)) = self.s.take_intent() {
            if self.hold {
                self.held.push((token, change));
                continue;
            }
            let result = if self.store_down {
                Err(StoreError::Unavailable)
            } else {
                self.apply(change)
            };
            self.s.store_outcome(self.now, token, result);
        }
        self.s.drain(&mut self.out);
        for &(c, i) in &self.out.to {
            let msg = self.out.messages[i as usize].0.clone();
            self.inbox.entry(c).or_default().push(msg);
        }
    }

    /// Deletes `i`'s character from the store, as the character screen does.
    pub(super) fn delete_character(&mut self, i: usize) {
        let change = Change::DeleteCharacter {
            account: self.accounts[i],
            character: self.ids[i],
        };
        self.apply(change).expect("deleted");
    }

    /// Answers the changes held back, in the order asked.
    pub(super) fn release(&mut self) {
        self.hold = false;
        for (token, change) in std::mem::take(&mut self.held) {
            let result = self.apply(change);
            self.s.store_outcome(self.now, token, result);
        }
        self.settle();
    }

    pub(super) fn req_near(&mut self, i: usize, r: ClientSocial, near: &[usize]) {
        let near: Vec<CharacterId> = near.iter().map(|&n| self.ids[n]).collect();
        self.s.handle(self.now, self.ids[i], r, &near);
        self.settle();
    }

    pub(super) fn req(&mut self, i: usize, r: ClientSocial) {
        self.req_near(i, r, &[]);
    }

    pub(super) fn tick(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        let mut due = Vec::new();
        self.s.tick(self.now, &mut due);
        self.settle();
    }

    pub(super) fn take(&mut self, i: usize) -> Vec<ServerSocial> {
        self.inbox.remove(&self.ids[i]).unwrap_or_default()
    }

    /// The chat lines `i` heard since the last take, as (channel, text).
    pub(super) fn heard(&mut self, i: usize) -> Vec<(ChatChannel, String)> {
        self.take(i)
            .into_iter()
            .filter_map(|m| match m {
                ServerSocial::Chat(ChatLine { channel, text, .. }) => Some((channel, text)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn refusals(&mut self, i: usize) -> Vec<SocialRefusal> {
        self.take(i)
            .into_iter()
            .filter_map(|m| match m {
                ServerSocial::Refused { reason, .. } => Some(reason),
                _ => None,
            })
            .collect()
    }

    pub(super) fn clear(&mut self) {
        self.inbox.clear();
    }

    pub(super) fn say(&mut self, i: usize, channel: ChatChannel, text: &str) {
        self.req(
            i,
            ClientSocial::Chat {
                channel,
                text: text.into(),
            },
        );
    }

    /// `i` founds a guild named `name`; its id.
    pub(super) fn found_guild(&mut self, i: usize, name: &str) -> GuildId {
        self.req(i, ClientSocial::GuildCreate { name: name.into() });
        self.s.guild_of(self.id(i)).expect("founded").0
    }

    /// `inviter` invites `i` into guild `guild` and `i` accepts.
    pub(super) fn join_guild(&mut self, inviter: usize, i: usize, guild: GuildId) {
        let name = self.names[i].clone();
        self.req(inviter, ClientSocial::GuildInvite { name });
        self.req(
            i,
            ClientSocial::GuildAnswer {
                guild,
                accept: true,
            },
        );
    }

    /// `inviter` invites `i` into its party and `i` accepts.
    pub(super) fn join_party(&mut self, inviter: usize, i: usize) {
        // Past the actions' rate of both.
        self.tick(1_000);
        let name = self.names[i].clone();
        self.req(inviter, ClientSocial::PartyInvite { name });
        let from = self.id(inviter);
        self.req(i, ClientSocial::PartyAnswer { from, accept: true });
    }
}
