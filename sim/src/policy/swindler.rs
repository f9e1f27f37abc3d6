//! The swindler: a hostile player abusing the economy. Each trick is one
//! kind of bad request, tried in turn, one trick every [`PACE`] steps:
//! buying what it cannot pay for; naming slots far out of range or empty;
//! counts of 0 and `u32::MAX`; its last request numbers again; offers and
//! pass levels that do not exist; trading with itself (in any case) and
//! with made-up names; answering, offering to, confirming and cancelling
//! trades it is not in. With a partner (another swindler) it races a trade
//! over its items: absurd offers (`u32::MAX` items, `u64::MAX` gold, a slot
//! twice, more stacks than a trade takes), a stale version confirmed, the
//! offered stack sold while on the table and the version before the sale
//! confirmed. It records the typed refusals it gets, by request and
//! reason, and walks about meanwhile.

use game_core::client::{Client, ClientEvent};
use game_core::ids::CharacterId;
use game_core::protocol::{ClientEconomy, EconomyRefusal, ServerEconomy, TradeEnd};
use std::collections::BTreeMap;

/// Steps between two tricks (a step is 100 ms by default).
pub const PACE: u64 = 5;

/// One kind of bad request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trick {
    Broke,
    FarSlots,
    EmptySlots,
    EdgeCounts,
    Replay,
    NoSuchThing,
    Yourself,
    Strangers,
    Race,
}

impl Trick {
    /// In the order tried.
    pub const ALL: [Trick; 9] = [
        Trick::Broke,
        Trick::FarSlots,
        Trick::EmptySlots,
        Trick::EdgeCounts,
        Trick::Replay,
        Trick::NoSuchThing,
        Trick::Yourself,
        Trick::Strangers,
        Trick::Race,
    ];

    /// The reasons this trick may be refused for: the ones it earns first.
    /// Any request may also meet `Busy` (a change of its own on its way to
    /// the store).
    pub fn expected(self) -> &'static [EconomyRefusal] {
        use EconomyRefusal::*;
        match self {
            Trick::Broke => &[NotEnoughGold],
            Trick::FarSlots => &[NoItem],
            Trick::EmptySlots => &[NoItem],
            Trick::EdgeCounts => &[BadCount, NoItem],
            Trick::Replay => &[Replayed],
            Trick::NoSuchThing => &[NoSuchOffer],
            Trick::Yourself => &[Yourself],
            Trick::Strangers => &[NotOnline, NoTrade, AlreadyTrading],
            Trick::Race => &[
                BadCount,
                NotEnoughGold,
                TooManyItems,
                TradeChanged,
                NoItem,
                NoTrade,
                NotOnline,
                AlreadyTrading,
            ],
        }
    }
}

/// What the swindler did and what it got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwindleTally {
    /// Requests sent, by trick.
    pub sent: BTreeMap<Trick, u64>,
    /// Refusals, by the request's label ([`ClientEconomy::label`]) and
    /// reason.
    pub refusals: BTreeMap<(&'static str, EconomyRefusal), u64>,
    /// Changes the store made to its inventory at its request (the sales
    /// in a race), and trades that ended, by how.
    pub changed: u64,
    pub trades_ended: BTreeMap<String, u64>,
}

impl SwindleTally {
    pub fn refused(&self) -> u64 {
        self.refusals.values().sum()
    }

    /// Refusals of requests labelled `label` for `reason`.
    pub fn refused_for(&self, label: &str, reason: EconomyRefusal) -> u64 {
        self.refusals
            .iter()
            .filter(|((l, r), _)| *l == label && *r == reason)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Request numbers kept waiting for their answer at most (an accepted trade
/// request or offer is answered by no `Changed`).
const MAX_PENDING: usize = 256;

#[derive(Debug, Default)]
pub struct Swindler {
    /// Its own character's name, once in the world.
    me: Option<String>,
    /// Another swindler to race trades with.
    partner: Option<String>,
    /// Its partner asked to trade: accepted at the next step.
    accept: Option<CharacterId>,
    steps: u64,
    next: usize,
    /// Requests sent and not yet answered, by number: their labels.
    pending: BTreeMap<u32, &'static str>,
    strangers: u64,
    pub tally: SwindleTally,
}

impl Swindler {
    /// A swindler that races trades with the character named `partner`.
    pub fn with_partner(partner: &str) -> Self {
        Swindler {
            partner: Some(partner.to_owned()),
            ..Swindler::default()
        }
    }

    pub fn on_event(&mut self, e: &ClientEvent) {
        let msg = match e {
            ClientEvent::EnteredWorld { character, .. } => {
                // Of a pair, the one whose name sorts last acts two steps
                // after the other, so each sees what the other did.
                if self.me.is_none() && self.partner.as_ref() < Some(&character.name) {
                    self.steps += 2;
                }
                self.me = Some(character.name.clone());
                return;
            }
            ClientEvent::Economy(msg) => msg,
            _ => return,
        };
        match msg {
            ServerEconomy::Refused { req, reason } => {
                let label = self.pending.remove(req).unwrap_or("unknown");
                *self.tally.refusals.entry((label, *reason)).or_default() += 1;
            }
            ServerEconomy::Changed { req, .. } if *req > 0 => {
                self.pending.remove(req);
                self.tally.changed += 1;
            }
            // Only its partner's: it answers nobody else.
            ServerEconomy::TradeRequested { from, .. }
                if Some(&from.name) == self.partner.as_ref() =>
            {
                self.accept = Some(from.character);
            }
            ServerEconomy::TradeClosed { end } => {
                let how = match end {
                    TradeEnd::Failed(r) => format!("failed:{}", r.label()),
                    other => format!("{other:?}").to_lowercase(),
                };
                *self.tally.trades_ended.entry(how).or_default() += 1;
            }
            _ => {}
        }
    }

    /// One step: its partner's request accepted; every [`PACE`]th, the next
    /// trick.
    pub fn step(&mut self, client: &mut Client) {
        self.steps += 1;
        if let Some(from) = self.accept.take() {
            let answer = |req| ClientEconomy::TradeAnswer {
                req,
                from,
                accept: true,
            };
            self.send(client, Trick::Race, answer);
        }
        if self.steps % PACE != 0 || client.economy().inventory.is_none() {
            return;
        }
        let trick = Trick::ALL[self.next % Trick::ALL.len()];
        self.next += 1;
        self.trick(trick, client);
    }

    /// Sends a request numbered as the client numbers them.
    fn send(&mut self, client: &mut Client, trick: Trick, make: impl FnOnce(u32) -> ClientEconomy) {
        let mut label = "";
        let req = client.economy_request(|req| {
            let r = make(req);
            label = r.label();
            r
        });
        self.sent(trick, req, label);
    }

    /// Sends a request with the number it carries.
    fn send_raw(&mut self, client: &mut Client, trick: Trick, request: ClientEconomy) {
        self.sent(trick, request.req(), request.label());
        client.economy_request_raw(request);
    }

    fn sent(&mut self, trick: Trick, req: u32, label: &'static str) {
        *self.tally.sent.entry(trick).or_default() += 1;
        self.pending.insert(req, label);
        while self.pending.len() > MAX_PENDING {
            self.pending.pop_first();
        }
    }

    fn trick(&mut self, trick: Trick, client: &mut Client) {
        use ClientEconomy as E;
        let view = client.economy();
        let stack = view.stacks().next().map(|(slot, s)| (slot, s.count));
        let empty: Vec<u16> = view
            .inventory
            .iter()
            .flat_map(|i| i.slots.iter().enumerate())
            .filter(|(_, s)| s.is_none())
            .map(|(i, _)| i as u16)
            .collect();
        let gold = view.gold();
        let offers = view.catalogue.as_ref().map_or(0, |c| c.offers.len());
        let dearest = view.catalogue.as_ref().and_then(|c| {
            (c.offers.iter().enumerate())
                .max_by_key(|(_, o)| o.price)
                .filter(|(_, o)| o.price > gold)
                .map(|(i, _)| i as u16)
        });
        let trading = view.trade.clone();
        let last = view.last_req;
        let far = u16::MAX;
        let ring = game_core::content::EquipSlot::Ring;
        match trick {
            Trick::Broke => {
                if let Some(offer) = dearest {
                    self.send(client, trick, |req| E::Buy { req, offer });
                }
            }
            Trick::FarSlots => {
                let requests: [fn(u32, u16) -> ClientEconomy; 7] = [
                    |req, far| E::Move {
                        req,
                        from: far,
                        to: 0,
                    },
                    |req, far| E::Split {
                        req,
                        from: 0,
                        to: far,
                        count: 1,
                    },
                    |req, far| E::Delete {
                        req,
                        slot: far,
                        count: 1,
                    },
                    |req, far| E::Equip { req, from: far },
                    |req, far| E::Unequip {
                        req,
                        slot: game_core::content::EquipSlot::Ring,
                        to: far,
                    },
                    |req, far| E::Sell {
                        req,
                        slot: far,
                        count: 1,
                    },
                    |req, far| E::Enhance { req, slot: far },
                ];
                for make in requests {
                    self.send(client, trick, |req| make(req, far));
                }
            }
            Trick::EmptySlots => {
                let (Some(&e), Some(&f)) = (empty.first(), empty.last()) else {
                    return;
                };
                let requests = [
                    E::Move {
                        req: 0,
                        from: e,
                        to: f,
                    },
                    E::Split {
                        req: 0,
                        from: e,
                        to: f,
                        count: 1,
                    },
                    E::Delete {
                        req: 0,
                        slot: e,
                        count: 1,
                    },
                    E::Equip { req: 0, from: e },
                    E::Sell {
                        req: 0,
                        slot: e,
                        count: 1,
                    },
                    E::Enhance { req: 0, slot: e },
                    E::Unequip {
                        req: 0,
                        slot: ring,
                        to: e,
                    },
                ];
                for r in requests {
                    self.send(client, trick, |req| with_req(r, req));
                }
            }
            Trick::EdgeCounts => {
                let (slot, count) = stack.unwrap_or((0, 1));
                let to = empty.first().copied().unwrap_or(far);
                let requests = [
                    E::Split {
                        req: 0,
                        from: slot,
                        to,
                        count: u32::MAX,
                    },
                    E::Split {
                        req: 0,
                        from: slot,
                        to,
                        count: 0,
                    },
                    E::Split {
                        req: 0,
                        from: slot,
                        to,
                        count,
                    },
                    E::Delete {
                        req: 0,
                        slot,
                        count: u32::MAX,
                    },
                    E::Delete {
                        req: 0,
                        slot,
                        count: 0,
                    },
                    E::Sell {
                        req: 0,
                        slot,
                        count: u32::MAX,
                    },
                    E::Sell {
                        req: 0,
                        slot,
                        count: count + 1,
                    },
                ];
                for r in requests {
                    self.send(client, trick, |req| with_req(r, req));
                }
            }
            Trick::Replay => {
                for req in [last, last.saturating_sub(1), 0] {
                    self.send_raw(client, trick, E::Sort { req });
                }
            }
            Trick::NoSuchThing => {
                let offer = offers as u16;
                self.send(client, trick, |req| E::Buy { req, offer });
                self.send(client, trick, |req| E::Buy { req, offer: far });
                self.send(client, trick, |req| E::Claim { req, level: 0 });
                self.send(client, trick, |req| E::Claim {
                    req,
                    level: u8::MAX,
                });
            }
            Trick::Yourself => {
                let Some(me) = self.me.clone() else {
                    return;
                };
                for name in [me.clone(), me.to_uppercase()] {
                    self.send(client, trick, |req| E::TradeRequest { req, name });
                }
            }
            Trick::Strangers => {
                self.strangers += 1;
                let name = format!("Nobody{}", self.strangers);
                self.send(client, trick, |req| E::TradeRequest { req, name });
                let from = CharacterId(1_000_000 + self.strangers);
                self.send(client, trick, |req| E::TradeAnswer {
                    req,
                    from,
                    accept: true,
                });
                if trading.is_none() {
                    let offer = |req| E::TradeOffer {
                        req,
                        items: vec![(0, 1)],
                        gold: 1,
                    };
                    self.send(client, trick, offer);
                    self.send(client, trick, |req| E::TradeConfirm { req, version: 1 });
                    self.send(client, trick, |req| E::TradeCancel { req });
                }
            }
            Trick::Race => self.race(client, trading, stack),
        }
    }

    /// With its partner: asks to trade (the one whose name sorts first), or
    /// in the trade, agrees to it as it stands once the other has; else, on
    /// every other turn, tries absurd offers, offers its first stack,
    /// confirms a stale version and the new one, sells the stack it offered
    /// and confirms the version before the sale; on the turns between,
    /// offers one of its first stack and confirms, for the other to swap.
    fn race(
        &mut self,
        client: &mut Client,
        trading: Option<game_core::protocol::TradeView>,
        stack: Option<(u16, u32)>,
    ) {
        use ClientEconomy as E;
        let trick = Trick::Race;
        let (Some(me), Some(partner)) = (self.me.clone(), self.partner.clone()) else {
            return;
        };
        let Some(view) = trading else {
            if me < partner {
                self.send(client, trick, |req| E::TradeRequest { req, name: partner });
            }
            return;
        };
        if view.confirmed.1 {
            let version = view.version;
            self.send(client, trick, |req| E::TradeConfirm { req, version });
            return;
        }
        let Some((slot, _)) = stack else {
            self.send(client, trick, |req| E::TradeOffer {
                req,
                items: vec![],
                gold: u64::MAX,
            });
            return;
        };
        let v = view.version;
        if (self.next / Trick::ALL.len()) % 2 == 1 {
            let items = vec![(slot, 1)];
            self.send(client, trick, |req| E::TradeOffer {
                req,
                items,
                gold: 0,
            });
            let offered = v.wrapping_add(1);
            self.send(client, trick, |req| E::TradeConfirm {
                req,
                version: offered,
            });
            return;
        }
        let absurd = [
            (vec![(slot, u32::MAX)], 0),
            (vec![], u64::MAX),
            (vec![(slot, 1), (slot, 1)], 0),
            ((0..9).map(|s| (s, 1)).collect(), 0),
        ];
        for (items, gold) in absurd {
            self.send(client, trick, |req| E::TradeOffer { req, items, gold });
        }
        let items = vec![(slot, 1)];
        self.send(client, trick, |req| E::TradeOffer {
            req,
            items,
            gold: 0,
        });
        self.send(client, trick, |req| E::TradeConfirm { req, version: v });
        let offered = v.wrapping_add(1);
        self.send(client, trick, |req| E::TradeConfirm {
            req,
            version: offered,
        });
        self.send(client, trick, |req| E::Sell {
            req,
            slot,
            count: 1,
        });
        self.send(client, trick, |req| E::TradeConfirm {
            req,
            version: offered,
        });
    }
}

/// `r` numbered `req`.
fn with_req(r: ClientEconomy, req: u32) -> ClientEconomy {
    use ClientEconomy as E;
    match r {
        E::Move { from, to, .. } => E::Move { req, from, to },
        E::Split {
            from, to, count, ..
        } => E::Split {
            req,
            from,
            to,
            count,
        },
        E::Delete { slot, count, .. } => E::Delete { req, slot, count },
        E::Equip { from, .. } => E::Equip { req, from },
        E::Unequip { slot, to, .. } => E::Unequip { req, slot, to },
        E::Sell { slot, count, .. } => E::Sell { req, slot, count },
        E::Enhance { slot, .. } => E::Enhance { req, slot },
        E::TradeRequest { name, .. } => E::TradeRequest { req, name },
        E::TradeAnswer { from, accept, .. } => E::TradeAnswer { req, from, accept },
        E::TradeOffer { items, gold, .. } => E::TradeOffer { req, items, gold },
        E::TradeConfirm { version, .. } => E::TradeConfirm { req, version },
        other => other,
    }
}

#[cfg(test)]
#[path = "swindler_tests.rs"]
mod tests;
