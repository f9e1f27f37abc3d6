//! The node target's economy part: requests built from script bytes (every
//! kind, honest and hostile), an operator's grants to give them something
//! to work with, what each client hears of its inventory, and the store's
//! books after each step.

use super::super::script::{Script, ScriptWriter};
use super::super::social_request::NAMES;
use game_core::content::EquipSlot;
use game_core::economy::ItemId;
use game_core::ids::CharacterId;
use game_core::node::{Node, TxResult, INVENTORY_SLOTS};
use game_core::persist::MemoryStore;
use game_core::protocol::{
    ClientEconomy, FrameDecoder, ServerEconomy, ServerMsg, MAX_SERVER_PAYLOAD,
};
use std::collections::{BTreeMap, BTreeSet};

/// `[kind] [a] [b] [n: u16] [flags] [req]`: `kind` % 15 is the request
/// (in [`ClientEconomy`]'s order); `a` and `b` are slots (modulo
/// `INVENTORY_SLOTS + 2`; `u16::MAX` when `flags & 2`), an offer, a level, a
/// name ([`NAMES`]) or a character (one the script knows, or made up); a
/// count is `n % 128`, or `u32::MAX - n` when `flags & 1`; gold `n`, or
/// `u64::MAX - n`; a confirmation names the version last heard, or `n` when
/// `flags & 4`. `req` % 8 is the next number (0 to 5), the last one again
/// (6) or one below it (7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EconomyBytes {
    pub kind: u8,
    pub a: u8,
    pub b: u8,
    pub n: u16,
    pub flags: u8,
    pub req: u8,
}

impl EconomyBytes {
    pub fn read(s: &mut Script<'_>) -> EconomyBytes {
        EconomyBytes {
            kind: s.u8(),
            a: s.u8(),
            b: s.u8(),
            n: s.u16(),
            flags: s.u8(),
            req: s.u8(),
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.kind)
            .u8(self.a)
            .u8(self.b)
            .u16(self.n)
            .u8(self.flags)
            .u8(self.req);
    }

    fn slot(&self, x: u8) -> u16 {
        if self.flags & 2 != 0 {
            u16::MAX
        } else {
            u16::from(x) % (INVENTORY_SLOTS as u16 + 2)
        }
    }

    fn count(&self) -> u32 {
        if self.flags & 1 != 0 {
            u32::MAX - u32::from(self.n)
        } else {
            u32::from(self.n) % 128
        }
    }

    /// The request from a client that last used `heard.last_req` and heard
    /// `heard.version`; `ids` are characters the script knows of.
    pub(super) fn request(&self, heard: &mut EconomyHeard, ids: &[CharacterId]) -> ClientEconomy {
        let req = match self.req % 8 {
            0..=5 => {
                heard.last_req = heard.last_req.saturating_add(1);
                heard.last_req
            }
            6 => heard.last_req,
            _ => heard.last_req.saturating_sub(1),
        };
        let (a, b) = (self.a, self.b);
        let gold = if self.flags & 1 != 0 {
            u64::MAX - u64::from(self.n)
        } else {
            u64::from(self.n)
        };
        match self.kind % 15 {
            0 => ClientEconomy::Move {
                req,
                from: self.slot(a),
                to: self.slot(b),
            },
            1 => ClientEconomy::Split {
                req,
                from: self.slot(a),
                to: self.slot(b),
                count: self.count(),
            },
            2 => ClientEconomy::Delete {
                req,
                slot: self.slot(a),
                count: self.count(),
            },
            3 => ClientEconomy::Equip {
                req,
                from: self.slot(a),
            },
            4 => ClientEconomy::Unequip {
                req,
                slot: EquipSlot::ALL[b as usize % EquipSlot::ALL.len()],
                to: self.slot(a),
            },
            5 => ClientEconomy::Sort { req },
            6 => ClientEconomy::Buy {
                req,
                offer: u16::from(a) % 12,
            },
            7 => ClientEconomy::Sell {
                req,
                slot: self.slot(a),
                count: self.count(),
            },
            8 => ClientEconomy::Enhance {
                req,
                slot: self.slot(a),
            },
            9 => ClientEconomy::Claim { req, level: a % 12 },
            10 => ClientEconomy::TradeRequest {
                req,
                name: NAMES[a as usize % NAMES.len()].into(),
            },
            11 => ClientEconomy::TradeAnswer {
                req,
                from: match ids.len() {
                    n if n > 0 && a < 0xC0 => ids[a as usize % n],
                    _ => CharacterId(u64::from(a)),
                },
                accept: b & 1 == 0,
            },
            12 => ClientEconomy::TradeOffer {
                req,
                items: (0..b % 10)
                    .map(|i| (self.slot(a.wrapping_add(i)), self.count().max(1)))
                    .collect(),
                gold,
            },
            13 => ClientEconomy::TradeConfirm {
                req,
                version: if self.flags & 4 != 0 {
                    u32::from(self.n)
                } else {
                    heard.version
                },
            },
            _ => ClientEconomy::TradeCancel { req },
        }
    }
}

/// What one client heard of the economy, checked as it comes: each change
/// moves its inventory's sequence number on (a whole inventory starts it
/// again); an open trade's version as last shown.
#[derive(Debug)]
pub(super) struct EconomyHeard {
    decoder: FrameDecoder,
    /// The last request number the client used.
    pub last_req: u32,
    /// The open trade's version, as last shown.
    pub version: u32,
    seq: Option<u64>,
}

impl Default for EconomyHeard {
    fn default() -> Self {
        EconomyHeard {
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            last_req: 0,
            version: 0,
            seq: None,
        }
    }
}

impl EconomyHeard {
    pub(super) fn receive(&mut self, mut bytes: &[u8]) {
        while let Ok(Some(payload)) = self.decoder.decode(&mut bytes) {
            let Ok(ServerMsg::Economy(msg)) = ServerMsg::decode(payload) else {
                continue;
            };
            match msg {
                ServerEconomy::Inventory(inv) => {
                    assert_eq!(inv.slots.len(), INVENTORY_SLOTS);
                    self.seq = Some(inv.seq);
                }
                ServerEconomy::Changed { seq, .. } => {
                    if let Some(last) = self.seq {
                        assert!(seq > last, "change {seq} heard after {last}");
                    }
                    self.seq = Some(seq);
                }
                ServerEconomy::Trade(view) => self.version = view.version,
                _ => {}
            }
        }
    }
}

/// The store's books balance (held plus burned is minted, by kind; gold
/// held plus out is in; deleted characters' belongings included) and no
/// item id is stored twice; while no transaction is in flight, every
/// inventory the node holds is the store's; the node's economy counters
/// agree with one another.
pub(super) fn check(node: &Node, store: &MemoryStore) {
    let mut minted: BTreeMap<_, u128> = BTreeMap::new();
    let (mut gold_in, mut gold_out) = (0u128, 0u128);
    for (_, r) in store.ledger() {
        for &(def, n, _) in &r.minted {
            *minted.entry(def).or_default() += u128::from(n);
        }
        for &(def, n, _) in &r.burned {
            let m = minted.entry(def).or_default();
            *m = m
                .checked_sub(u128::from(n))
                .expect("burned more than minted");
        }
        gold_in += r.gold_in.iter().map(|g| u128::from(g.0)).sum::<u128>();
        gold_out += r.gold_out.iter().map(|g| u128::from(g.0)).sum::<u128>();
    }
    let mut held: BTreeMap<_, u128> = BTreeMap::new();
    let mut gold = 0u128;
    let mut ids: BTreeSet<ItemId> = BTreeSet::new();
    for (_, inv) in store.inventories() {
        for s in inv.stacks() {
            *held.entry(s.def).or_default() += u128::from(s.count);
            assert!(ids.insert(s.id), "{:?} stored twice", s.id);
        }
        gold += u128::from(inv.gold);
    }
    minted.retain(|_, n| *n > 0);
    assert_eq!(held, minted, "items held are not minted less burned");
    assert_eq!(gold + gold_out, gold_in, "gold held plus out is not in");
    if node.transactions_in_flight() == 0 {
        for c in node.players().filter_map(|p| p.character) {
            let (Some(mine), Some(stored)) = (node.inventory(c), store.inventory(c)) else {
                continue;
            };
            assert_eq!(mine, stored, "{c}: the node's inventory is not the store's");
        }
    }
    let s = node.stats();
    let e = &s.economy;
    assert_eq!(e.refusals.iter().sum::<u64>(), s.economy_refused);
    assert_eq!(e.total(TxResult::Committed), s.economy_committed);
    assert_eq!(e.total(TxResult::Conflict), s.economy_conflicts);
    assert_eq!(e.total(TxResult::Retried), s.economy_retries);
    assert!(s.economy_committed + s.economy_conflicts <= s.economy_transactions);
}
