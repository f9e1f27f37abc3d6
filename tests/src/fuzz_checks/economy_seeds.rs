//! Seeds for the economy target: honest use of every op, trades (balanced,
//! with oneself, leaving something on the table), the edges of every count
//! and amount, replayed and skipping sequence numbers, the pass and the
//! shop's limits, and deletions.

use super::economy::{EconomyOp, OpBytes, PartBytes};
use super::node::{EconomyBytes, NodeOp, StoreMode};
use super::script::ScriptWriter;
use super::seeds::Seed;
use game_core::content::Content;

/// Op codes, as [`OpBytes::op`] reads them.
mod code {
    pub const MINT: u8 = 0;
    pub const BURN: u8 = 1;
    pub const GOLD_IN: u8 = 2;
    pub const GOLD_OUT: u8 = 3;
    pub const MOVE: u8 = 4;
    pub const SPLIT: u8 = 5;
    pub const EQUIP: u8 = 6;
    pub const UNEQUIP: u8 = 7;
    pub const SORT: u8 = 8;
    pub const SET_PLUS: u8 = 9;
    pub const GIVE: u8 = 10;
    pub const PAY: u8 = 11;
    pub const TAKE_ALL: u8 = 12;
    pub const PURCHASE: u8 = 13;
    pub const MISSION: u8 = 14;
    pub const CLAIM: u8 = 15;
}
use code::*;

/// Flags: the edge of a count or amount, and a slot far out of range.
const EDGE: u8 = 1;
const FAR: u8 = 2;

fn op(code: u8, a: u8, b: u8, n: u16, flags: u8) -> OpBytes {
    OpBytes {
        code,
        a,
        b,
        n,
        flags,
    }
}

/// The item kind named `name`, as an operand.
fn kind(name: &str) -> u8 {
    let content = Content::sample();
    content.item_named(name).expect("a sample item").id.0 as u8
}

/// One past the last item kind: unknown.
fn kinds() -> u8 {
    Content::sample().items.len() as u8
}

fn solo(who: u8, ops: Vec<OpBytes>) -> EconomyOp {
    EconomyOp::Tx {
        parts: vec![PartBytes { who, seq: 0, ops }],
    }
}

fn with_seq(who: u8, seq: u8, ops: Vec<OpBytes>) -> EconomyOp {
    EconomyOp::Tx {
        parts: vec![PartBytes { who, seq, ops }],
    }
}

fn trade(a: (u8, Vec<OpBytes>), b: (u8, Vec<OpBytes>)) -> EconomyOp {
    let part = |(who, ops)| PartBytes { who, seq: 0, ops };
    EconomyOp::Tx {
        parts: vec![part(a), part(b)],
    }
}

/// The economy target's seed scripts, by name.
pub(super) fn economy_scripts() -> Vec<(&'static str, Vec<EconomyOp>)> {
    let (stone, sword, potion) = (
        kind("enhancement_stone"),
        kind("iron_sword"),
        kind("minor_potion"),
    );
    vec![
        // One character's inventory: minted, split, merged, worn, enhanced,
        // sorted, burned; gold in and out.
        (
            "one_inventory",
            vec![
                solo(0, vec![op(MINT, stone, 0, 120, 0)]),
                solo(0, vec![op(MINT, sword, 0, 1, 0), op(GOLD_IN, 0, 0, 500, 0)]),
                solo(0, vec![op(SPLIT, 0, 5, 30, 0)]),
                solo(0, vec![op(MOVE, 5, 1, 0, 0)]),
                solo(0, vec![op(MOVE, 1, 6, 0, 0)]),
                solo(0, vec![op(EQUIP, 2, 0, 0, 0)]),
                solo(0, vec![op(UNEQUIP, 7, 0, 0, 0)]),
                solo(0, vec![op(SET_PLUS, 7, 3, 0, 0)]),
                solo(0, vec![op(SORT, 0, 0, 0, 0)]),
                solo(
                    0,
                    vec![
                        op(GOLD_OUT, 0, 0, 60, 4),
                        op(BURN, 0, 0, 3, 4),
                        op(SET_PLUS, 2, 4, 0, 0),
                    ],
                ),
                solo(0, vec![op(BURN, 1, 0, 90, 8), op(GOLD_OUT, 0, 0, 40, 0)]),
            ],
        ),
        // Trades: balanced, with oneself, leaving gold on the table, and one
        // whose taker has no room.
        (
            "trades",
            vec![
                solo(
                    0,
                    vec![op(MINT, sword, 0, 1, 0), op(MINT, potion, 0, 30, 0)],
                ),
                solo(1, vec![op(GOLD_IN, 0, 0, 300, 12)]),
                trade(
                    (
                        0,
                        vec![
                            op(GIVE, 0, 0, 1, 0),
                            op(GIVE, 2, 0, 4, 0),
                            op(TAKE_ALL, 0, 0, 0, 0),
                        ],
                    ),
                    (1, vec![op(PAY, 0, 0, 250, 0), op(TAKE_ALL, 0, 0, 0, 0)]),
                ),
                trade(
                    (2, vec![op(GIVE, 0, 0, 1, 0), op(TAKE_ALL, 0, 0, 0, 0)]),
                    (2, vec![op(PAY, 0, 0, 1, 0), op(TAKE_ALL, 0, 0, 0, 0)]),
                ),
                trade(
                    (1, vec![op(PAY, 0, 0, 10, 0)]),
                    (0, vec![op(GIVE, 1, 0, 1, 0)]),
                ),
                solo(2, vec![op(MINT, sword, 0, 8, 0)]),
                trade(
                    (1, vec![op(GIVE, 0, 0, 1, 0), op(TAKE_ALL, 0, 0, 0, 0)]),
                    (2, vec![op(TAKE_ALL, 0, 0, 0, 0)]),
                ),
            ],
        ),
        // The edges: counts and amounts at their type's limit, slots far out of
        // range, an unknown item kind, a later op's refusal undoing an earlier
        // one, and sequence numbers replayed, skipping or zero.
        (
            "edges",
            vec![
                solo(0, vec![op(MINT, stone, 0, 0, EDGE)]),
                solo(0, vec![op(GOLD_IN, 0, 0, 0, EDGE)]),
                solo(0, vec![op(GOLD_IN, 0, 0, 0, EDGE)]),
                solo(1, vec![op(GOLD_IN, 0, 0, 1, EDGE)]),
                solo(0, vec![op(MINT, kinds(), 0, 1, 0)]),
                solo(2, vec![op(GOLD_OUT, 0, 0, 5, 0)]),
                solo(2, vec![op(MINT, stone, 0, 3, 0)]),
                solo(2, vec![op(EQUIP, 0, 0, 0, 0)]),
                solo(2, vec![op(SPLIT, 0, 0, 1, 0)]),
                solo(0, vec![op(MINT, potion, 0, 5, 0), op(SPLIT, 0, 1, 0, EDGE)]),
                solo(0, vec![op(MOVE, 0, 0, 0, FAR), op(BURN, 0, 0, 1, FAR)]),
                solo(0, vec![op(GIVE, 0, 0, 0, EDGE), op(TAKE_ALL, 0, 0, 0, 0)]),
                solo(0, vec![op(PAY, 0, 0, 0, EDGE)]),
                with_seq(1, 5, vec![op(GOLD_IN, 0, 0, 1, 0)]),
                with_seq(1, 6, vec![op(GOLD_IN, 0, 0, 1, 0)]),
                with_seq(1, 7, vec![op(GOLD_IN, 0, 0, 1, 0)]),
            ],
        ),
        // The battle pass and the shop: missions past their goal, an overflow
        // of experience, claims reached, not reached and twice; purchases
        // against a daily limit, and a new day.
        (
            "pass_and_shop",
            vec![
                solo(0, vec![op(MISSION, 0, 3, 7, 0)]),
                solo(0, vec![op(MISSION, 1, 0, 7, 0)]),
                solo(0, vec![op(MISSION, 40, 3, 7, 0)]),
                solo(0, vec![op(MISSION, 2, 1, 2, EDGE)]),
                solo(0, vec![op(CLAIM, 1, 0, 10, 0), op(MINT, potion, 0, 1, 8)]),
                solo(0, vec![op(CLAIM, 1, 0, 10, 0)]),
                solo(0, vec![op(CLAIM, 0, 0, 0, 0)]),
                solo(0, vec![op(CLAIM, 2, 0, 0, EDGE)]),
                solo(1, vec![op(PURCHASE, 3, 9, 2, 0)]),
                solo(1, vec![op(PURCHASE, 3, 9, 2, 0)]),
                solo(1, vec![op(PURCHASE, 3, 9, 2, 0)]),
                solo(1, vec![op(PURCHASE, 3, 10, 2, 0)]),
            ],
        ),
        // A character deleted with items and gold, and its slot played again.
        (
            "deleted",
            vec![
                solo(2, vec![op(MINT, stone, 0, 40, 0), op(GOLD_IN, 0, 0, 70, 0)]),
                EconomyOp::Delete { who: 2 },
                solo(2, vec![op(MINT, stone, 0, 1, 0)]),
                trade(
                    (2, vec![op(GIVE, 0, 0, 1, 0), op(TAKE_ALL, 0, 0, 0, 0)]),
                    (0, vec![op(TAKE_ALL, 0, 0, 0, 0)]),
                ),
                EconomyOp::Delete { who: 0 },
            ],
        ),
    ]
}

/// `ClientEconomy` kinds, as [`EconomyBytes::kind`] reads them.
mod request {
    pub const MOVE: u8 = 0;
    pub const SPLIT: u8 = 1;
    pub const DELETE: u8 = 2;
    pub const EQUIP: u8 = 3;
    pub const UNEQUIP: u8 = 4;
    pub const SORT: u8 = 5;
    pub const BUY: u8 = 6;
    pub const SELL: u8 = 7;
    pub const ENHANCE: u8 = 8;
    pub const CLAIM: u8 = 9;
    pub const TRADE_REQUEST: u8 = 10;
    pub const TRADE_ANSWER: u8 = 11;
    pub const TRADE_OFFER: u8 = 12;
    pub const TRADE_CONFIRM: u8 = 13;
    pub const TRADE_CANCEL: u8 = 14;
}

/// Request numbers: the next, the last again, one below the last.
const NEXT: u8 = 0;
const AGAIN: u8 = 6;
const BELOW: u8 = 7;

/// The slot's client asks.
fn ask(slot: u8, kind: u8, a: u8, b: u8, n: u16, flags: u8, req: u8) -> NodeOp {
    NodeOp::Economy {
        slot,
        request: EconomyBytes {
            kind,
            a,
            b,
            n,
            flags,
            req,
        },
    }
}

/// The node target's economy seeds: two players given gold and items use
/// every request honestly (a trade swaps), then hostilely (slots far out,
/// counts at the edge, numbers replayed and lower, themselves, a stale
/// version), with the store holding, failing and answering twice.
pub(super) fn node_scripts() -> Vec<(&'static str, u8, Vec<NodeOp>)> {
    use request::*;
    let mut ops = Vec::new();
    ops.extend(super::seeds::arrive(0, 0));
    ops.extend(super::seeds::arrive(1, 1));
    ops.push(NodeOp::Advance { ms: 100 });
    for what in 0..4 {
        ops.push(NodeOp::Grant { slot: 0, what });
    }
    ops.push(NodeOp::Grant { slot: 1, what: 0 });
    // Ada: an iron sword (slot 0), stones (1), potions (2), 500 gold.
    ops.extend([
        ask(0, BUY, 0, 0, 0, 0, NEXT),
        ask(0, MOVE, 0, 5, 0, 0, NEXT),
        ask(0, SPLIT, 2, 6, 2, 0, NEXT),
        ask(0, EQUIP, 5, 0, 0, 0, NEXT),
        ask(0, ENHANCE, 5, 0, 0, 0, NEXT),
        ask(0, UNEQUIP, 7, 0, 0, 0, NEXT),
        ask(0, ENHANCE, 7, 0, 0, 0, NEXT),
        ask(0, SELL, 6, 0, 1, 0, NEXT),
        ask(0, DELETE, 6, 0, 1, 0, NEXT),
        ask(0, SORT, 0, 0, 0, 0, NEXT),
        ask(0, CLAIM, 1, 0, 0, 0, NEXT),
        // Hostile: far slots, edge counts, numbers replayed and lower, no
        // such offer.
        ask(0, MOVE, 0, 1, 0, 2, NEXT),
        ask(0, SPLIT, 1, 9, 0, 1, NEXT),
        ask(0, SELL, 1, 0, 0, 1, NEXT),
        ask(0, SORT, 0, 0, 0, 0, AGAIN),
        ask(0, SORT, 0, 0, 0, 0, BELOW),
        ask(0, BUY, 11, 0, 0, 0, NEXT),
        // A trade: Ada's first slot for 100 of Bo's gold.
        ask(0, TRADE_REQUEST, 1, 0, 0, 0, NEXT),
        ask(1, TRADE_ANSWER, 0, 0, 0, 0, NEXT),
        ask(0, TRADE_OFFER, 0, 1, 1, 0, NEXT),
        ask(1, TRADE_OFFER, 0, 0, 100, 0, NEXT),
        ask(1, TRADE_OFFER, 0, 0, 0, 1, NEXT),
        ask(0, TRADE_CONFIRM, 0, 0, 999, 4, NEXT),
        ask(0, TRADE_CONFIRM, 0, 0, 0, 0, NEXT),
        ask(1, TRADE_CONFIRM, 0, 0, 0, 0, NEXT),
        ask(1, TRADE_REQUEST, 1, 0, 0, 0, NEXT),
        ask(0, TRADE_CANCEL, 0, 0, 0, 0, NEXT),
        ask(1, TRADE_REQUEST, 0, 0, 0, 0, NEXT),
        ask(0, TRADE_ANSWER, 1, 1, 0, 0, NEXT),
        // The store holds a purchase (a second request is busy), fails a
        // sort (sent again a second later), and answers one twice.
        NodeOp::Store(StoreMode::Hold),
        ask(0, BUY, 0, 0, 0, 0, NEXT),
        ask(0, SORT, 0, 0, 0, 0, NEXT),
        NodeOp::Answer {
            which: 0,
            fail: false,
        },
        NodeOp::Store(StoreMode::Unavailable),
        ask(1, SORT, 0, 0, 0, 0, NEXT),
        NodeOp::Store(StoreMode::AtOnce),
        NodeOp::Advance { ms: 1_500 },
        NodeOp::AnswerAgain {
            which: 0,
            fail: false,
        },
        NodeOp::Grant { slot: 1, what: 1 },
        NodeOp::Advance { ms: 100 },
    ]);
    // Each request, a moment, and a ping from the other: within the rate
    // limit, and nobody idle.
    let mut paced = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        let other = match &op {
            NodeOp::Economy { slot, .. } => Some(1 - slot),
            _ => None,
        };
        paced.push(op);
        if let Some(other) = other {
            paced.push(NodeOp::Advance { ms: 60 });
            paced.push(super::seeds::tell(other, super::seeds::ping(i as u32)));
        }
    }
    vec![("economy_honest_and_hostile", 5, paced)]
}

/// The economy target's seeds.
pub fn all() -> Vec<Seed> {
    economy_scripts()
        .into_iter()
        .map(|(name, ops)| {
            let mut w = ScriptWriter::default();
            for op in &ops {
                op.write(&mut w);
            }
            Seed {
                target: "economy",
                name: name.into(),
                bytes: w.bytes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::script::Script;
    use super::*;
    use std::collections::BTreeSet;
    use std::mem::discriminant;

    fn read(bytes: &[u8]) -> Vec<EconomyOp> {
        let mut script = Script::new(bytes);
        let mut ops = Vec::new();
        while !script.done() {
            ops.push(EconomyOp::read(&mut script));
        }
        ops
    }

    #[test]
    fn the_economy_check_reads_back_every_operation_the_seeds_write() {
        for (seed, (name, ops)) in all().iter().zip(economy_scripts()) {
            assert_eq!(read(&seed.bytes), ops, "{name}");
        }
    }

    /// The node seed gets its trade through, retries a sort the store
    /// failed, and meets the hostile requests' refusals.
    #[test]
    fn the_node_economy_seed_reaches_its_paths() {
        use game_core::node::{TxKind, TxResult};
        use game_core::protocol::EconomyRefusal::*;
        let (_, seed, ops) = node_scripts().remove(0);
        let mut w = ScriptWriter::default();
        w.u8(seed);
        for op in &ops {
            op.write(&mut w);
        }
        let s = super::super::node::run(&w.bytes).node;
        let e = &s.economy;
        assert_eq!(s.trades_done, 1, "{s:?}");
        assert!(e.total(TxResult::Retried) >= 1, "{e:?}");
        for reason in [
            Replayed,
            NoItem,
            BadCount,
            NoSuchOffer,
            Busy,
            NotReached,
            NoTrade,
            Yourself,
            TradeChanged,
        ] {
            assert!(e.refused_for(reason) >= 1, "{reason:?}: {e:?}");
        }
        for kind in [
            TxKind::Buy,
            TxKind::Move,
            TxKind::Split,
            TxKind::Equip,
            TxKind::Unequip,
            TxKind::Sell,
            TxKind::Delete,
            TxKind::Sort,
            TxKind::Grant,
            TxKind::Trade,
            TxKind::Enhance,
        ] {
            assert!(e.of(kind, TxResult::Committed) >= 1, "{kind:?}: {e:?}");
        }
    }

    /// Together the seeds apply transactions and meet every refusal.
    #[test]
    fn the_economy_seeds_are_applied_and_refused_for_every_reason() {
        use game_core::economy::EconomyError::*;
        let (mut applied, mut refused) = (0, std::collections::BTreeMap::new());
        for seed in all() {
            let r = super::super::economy::run(&seed.bytes);
            applied += r.applied;
            for (e, n) in r.refused {
                *refused.entry(e).or_insert(0) += n;
            }
        }
        assert!(applied >= 20, "{applied} applied");
        for e in [
            Sequence,
            NoItem,
            UnknownItem,
            BadCount,
            NotEnoughGold,
            InventoryFull,
            NotAllowed,
            SlotTaken,
            Overflow,
            Unbalanced,
            BadParts,
            SoldOut,
            AlreadyClaimed,
            NotReached,
        ] {
            assert!(refused.contains_key(&e), "{e:?} never met: {refused:?}");
        }
    }

    #[test]
    fn the_economy_seeds_use_every_operation_and_op() {
        let scripts = economy_scripts();
        let steps: BTreeSet<_> = scripts
            .iter()
            .flat_map(|(_, ops)| ops.iter().map(|op| format!("{:?}", discriminant(op))))
            .collect();
        assert_eq!(steps.len(), EconomyOp::COUNT as usize);
        let codes: BTreeSet<u8> = scripts
            .iter()
            .flat_map(|(_, ops)| ops.iter())
            .filter_map(|op| match op {
                EconomyOp::Tx { parts } => Some(parts),
                EconomyOp::Delete { .. } => None,
            })
            .flatten()
            .flat_map(|p| p.ops.iter().map(|o| o.code % OpBytes::CODES))
            .collect();
        assert_eq!(codes.len(), OpBytes::CODES as usize, "{codes:?}");
    }
}
