//! Random transactions on three inventories against a reference model of
//! what each character owns (items of each kind, gold), and against the
//! ledger: after every transaction, applied or refused, nothing exists
//! twice, nothing was made or lost outside the receipts' sources and sinks,
//! and a refused transaction changed nothing.

use super::tests::defs;
use super::*;
use crate::content::{EquipSlot, ItemDefId};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const PEOPLE: usize = 3;
const SLOTS: u16 = 6;

#[derive(Clone, Debug)]
enum Step {
    Solo(usize, Op),
    Trade {
        a: usize,
        b: usize,
        give: (u16, u32),
        pay: u64,
    },
}

fn source() -> impl Strategy<Value = Source> {
    prop_oneof![
        Just(Source::Loot),
        Just(Source::Shop),
        Just(Source::PassReward),
        Just(Source::Grant)
    ]
}

fn sink() -> impl Strategy<Value = Sink> {
    prop_oneof![
        Just(Sink::Shop),
        Just(Sink::Enhancement),
        Just(Sink::Deleted)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS + 1;
    prop_oneof![
        3 => (0u16..5, 0u32..45, 0u8..3, source())
            .prop_map(|(d, count, plus, source)| Op::Mint { def: ItemDefId(d), count, plus, source }),
        2 => (slot.clone(), 0u32..25, sink()).prop_map(|(slot, count, sink)| Op::Burn { slot, count, sink }),
        2 => (0u64..500, source()).prop_map(|(amount, source)| Op::GoldIn { amount, source }),
        2 => (0u64..500, sink()).prop_map(|(amount, sink)| Op::GoldOut { amount, sink }),
        2 => (slot.clone(), slot.clone()).prop_map(|(from, to)| Op::Move { from, to }),
        2 => (slot.clone(), slot.clone(), 0u32..25).prop_map(|(from, to, count)| Op::Split { from, to, count }),
        1 => slot.clone().prop_map(|from| Op::Equip { from }),
        1 => (0usize..7, slot.clone()).prop_map(|(s, to)| Op::Unequip { slot: EquipSlot::ALL[s], to }),
        1 => Just(Op::Sort),
        1 => (slot, 0u8..12).prop_map(|(slot, plus)| Op::SetPlus { slot, plus }),
        1 => (0u16..3, 0u32..3, 0u32..3).prop_map(|(offer, day, limit)| Op::Purchase { offer, day, limit }),
        1 => (0u16..3, 0u32..30, 0u32..10, 0u64..200)
            .prop_map(|(mission, add, goal, xp)| Op::Mission { mission, add, goal, xp }),
        1 => (0u8..6, 0u64..400).prop_map(|(level, xp)| Op::Claim { level, xp }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..PEOPLE, proptest::collection::vec(op(), 1..4)).prop_map(|(who, mut ops)| {
            // One op most of the time; several show that a later refusal
            // undoes the earlier ones.
            if ops.len() > 1 && who % 2 == 0 { ops.truncate(1); }
            Step::Solo(who, ops.remove(0))
        }),
        1 => (0..PEOPLE, 0..PEOPLE, 0u16..SLOTS + 1, 0u32..25, 0u64..300)
            .prop_map(|(a, b, slot, count, pay)| Step::Trade { a, b, give: (slot, count), pay }),
    ]
}

/// What the model says each character owns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Owned {
    items: BTreeMap<ItemDefId, u64>,
    gold: u64,
}

/// What the model says of each character's pass and shop day.
#[derive(Clone, Debug, Default)]
struct Pass {
    xp: u64,
    progress: BTreeMap<u16, u32>,
    claimed: BTreeSet<u8>,
    day: u32,
    bought: BTreeMap<u16, u32>,
}

impl Pass {
    /// Checks `op` against the model (`applied`: whether the transaction
    /// went through) and follows it.
    fn follow(&mut self, op: &Op, applied: bool) -> Result<(), TestCaseError> {
        match *op {
            Op::Purchase { offer, day, limit } => {
                let n = if day == self.day {
                    self.bought.get(&offer).copied().unwrap_or(0)
                } else {
                    0
                };
                prop_assert_eq!(
                    applied,
                    limit == 0 || n < limit,
                    "purchase {:?} after {}",
                    op,
                    n
                );
                if applied {
                    if day != self.day {
                        self.day = day;
                        self.bought.clear();
                    }
                    *self.bought.entry(offer).or_default() += 1;
                }
            }
            Op::Mission {
                mission,
                add,
                goal,
                xp,
            } => {
                prop_assert_eq!(applied, goal > 0, "{:?}", op);
                if applied {
                    let total = u64::from(self.progress.get(&mission).copied().unwrap_or(0))
                        + u64::from(add);
                    self.xp += total / u64::from(goal) * xp;
                    self.progress
                        .insert(mission, (total % u64::from(goal)) as u32);
                }
            }
            Op::Claim { level, xp } => {
                let allowed =
                    (1..=64).contains(&level) && !self.claimed.contains(&level) && self.xp >= xp;
                prop_assert_eq!(applied, allowed, "{:?} with {:?}", op, self);
                if applied {
                    self.claimed.insert(level);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn agrees(&self, inv: &Inventory) -> Result<(), TestCaseError> {
        prop_assert_eq!(inv.pass.xp, self.xp);
        for (&m, &p) in &self.progress {
            prop_assert_eq!(inv.pass.progress_of(m), p);
        }
        for level in 1..=64u8 {
            prop_assert_eq!(inv.pass.is_claimed(level), self.claimed.contains(&level));
        }
        for (&o, &n) in &self.bought {
            prop_assert_eq!(inv.shop.bought_on(self.day, o), n);
        }
        Ok(())
    }
}

fn owned(inv: &Inventory) -> Owned {
    let mut items = BTreeMap::new();
    for s in inv.stacks() {
        *items.entry(s.def).or_default() += s.count as u64;
    }
    Owned {
        items,
        gold: inv.gold,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn nothing_is_duplicated_or_lost(steps in proptest::collection::vec(step(), 1..80)) {
        let defs = defs();
        let mut invs: Vec<Inventory> = (0..PEOPLE).map(|_| Inventory::new(SLOTS as usize)).collect();
        let who = |i: usize| CharacterId(i as u64 + 1);
        let mut minted: BTreeMap<ItemDefId, u64> = BTreeMap::new();
        let mut burned: BTreeMap<ItemDefId, u64> = BTreeMap::new();
        let (mut gold_in, mut gold_out) = (0u64, 0u64);
        let mut model: Vec<Owned> = vec![Owned::default(); PEOPLE];
        let mut passes: Vec<Pass> = vec![Pass::default(); PEOPLE];
        for step in steps {
            let (idx, tx) = match &step {
                Step::Solo(i, op) => (vec![*i], Tx { parts: vec![Part {
                    character: who(*i), seq: invs[*i].seq + 1, ops: vec![op.clone()] }] }),
                Step::Trade { a, b, give, pay } => {
                    // With oneself too: that must be refused.
                    (vec![*a, *b], Tx { parts: vec![
                        Part { character: who(*a), seq: invs[*a].seq + 1,
                            ops: vec![Op::Give { slot: give.0, count: give.1 }, Op::TakeAll] },
                        Part { character: who(*b), seq: invs[*b].seq + 1,
                            ops: vec![Op::Pay { amount: *pay }, Op::TakeAll] },
                    ] })
                }
            };
            let mut touched: Vec<Inventory> = idx.iter().map(|&i| invs[i].clone()).collect();
            let before = touched.clone();
            let result = apply(&tx, &mut touched, &defs);
            if let Step::Solo(i, op) = &step {
                passes[*i].follow(op, result.is_ok())?;
            }
            match result {
                Ok(receipt) => {
                    for (def, n, _) in &receipt.minted { *minted.entry(*def).or_default() += n; }
                    for (def, n, _) in &receipt.burned { *burned.entry(*def).or_default() += n; }
                    gold_in += receipt.gold_in.iter().map(|(g, _)| g).sum::<u64>();
                    gold_out += receipt.gold_out.iter().map(|(g, _)| g).sum::<u64>();
                    // The model: what each op should have done to its owner.
                    match &step {
                        Step::Solo(i, op) => {
                            let m = &mut model[*i];
                            match *op {
                                Op::Mint { def, count, .. } => *m.items.entry(def).or_default() += count as u64,
                                Op::Burn { .. } => {
                                    let (def, n, _) = receipt.burned[0];
                                    *m.items.entry(def).or_default() -= n;
                                }
                                Op::GoldIn { amount, .. } => m.gold += amount,
                                Op::GoldOut { amount, .. } => m.gold -= amount,
                                _ => {}
                            }
                        }
                        Step::Trade { a, b, pay, .. } => {
                            let given = owned(&before[0]);
                            let left = owned(&touched[0]);
                            for (def, n) in given.items {
                                let moved = n - left.items.get(&def).copied().unwrap_or(0);
                                *model[*a].items.entry(def).or_default() -= moved;
                                *model[*b].items.entry(def).or_default() += moved;
                            }
                            model[*a].gold += pay;
                            model[*b].gold -= pay;
                        }
                    }
                    for (k, &i) in idx.iter().enumerate() {
                        prop_assert_eq!(touched[k].seq, before[k].seq + 1);
                        invs[i] = touched[k].clone();
                    }
                }
                Err(_) => prop_assert_eq!(&touched, &before, "a refusal changed something"),
            }
            // The model agrees with every inventory.
            for i in 0..PEOPLE {
                let mut want = model[i].clone();
                want.items.retain(|_, n| *n > 0);
                prop_assert_eq!(owned(&invs[i]), want, "character {}", i);
            }
            for i in 0..PEOPLE {
                passes[i].agrees(&invs[i])?;
            }
            // Conservation, by kind and for gold.
            for def in minted.keys().chain(burned.keys()) {
                let held: u64 = invs.iter().map(|inv| inv.count_of(*def)).sum();
                prop_assert_eq!(held, minted.get(def).copied().unwrap_or(0) - burned.get(def).copied().unwrap_or(0));
            }
            prop_assert_eq!(invs.iter().map(|i| i.gold).sum::<u64>(), gold_in - gold_out);
            // No id twice; every stack within its kind's size.
            let mut ids = BTreeSet::new();
            for inv in &invs {
                for s in inv.stacks() {
                    prop_assert!(ids.insert(s.id), "{:?} exists twice", s.id);
                    prop_assert!(s.count >= 1 && s.count <= defs[s.def.0 as usize].max_stack);
                }
            }
        }
    }
}
