//! Transactions: what each may do, and [`apply`], which does all of one or
//! none of it.

use super::inventory::equip_index;
use super::{Inventory, ItemId, Stack};
use crate::content::{EquipSlot, ItemDef, ItemDefId};
use crate::ids::CharacterId;
use serde::{Deserialize, Serialize};

/// Where created value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Source {
    /// Dropped by a monster.
    Loot,
    /// Bought from the shop (items), or paid by it for a sale (gold).
    Shop,
    /// A battle pass level's reward.
    PassReward,
    /// Given by an operator.
    Grant,
    /// A won raid's reward.
    Raid,
}

/// Where destroyed value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Sink {
    /// Paid to the shop (gold), or sold to it (items).
    Shop,
    /// Spent on enhancement (gold, stones), or an item it destroyed.
    Enhancement,
    /// Thrown away by its owner.
    Deleted,
}

/// One step of a transaction on one inventory. Slots are indices into
/// [`Inventory::slots`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `count` new items of `def` at enhancement `plus`, from `source`:
    /// stackables top up stacks of their kind first, then fill empty slots.
    Mint {
        def: ItemDefId,
        count: u32,
        plus: u8,
        source: Source,
    },
    /// `count` of the stack in `slot` destroyed, into `sink`.
    Burn {
        slot: u16,
        count: u32,
        sink: Sink,
    },
    GoldIn {
        amount: u64,
        source: Source,
    },
    GoldOut {
        amount: u64,
        sink: Sink,
    },
    /// The stack in `from` to `to`: into an empty slot, merged into a stack
    /// of its kind (as much as fits; the rest stays), or swapped.
    Move {
        from: u16,
        to: u16,
    },
    /// `count` of the stack in `from` into the empty slot `to`, as a new stack.
    Split {
        from: u16,
        to: u16,
        count: u32,
    },
    /// Wears the item in `from`; what was worn there takes its slot.
    Equip {
        from: u16,
    },
    /// Takes off what is worn at `slot`, into the empty slot `to`.
    Unequip {
        slot: EquipSlot,
        to: u16,
    },
    /// Stacks in kind order, empty slots last.
    Sort,
    /// The item in `slot` is now at enhancement level `plus`.
    SetPlus {
        slot: u16,
        plus: u8,
    },
    /// Puts `count` of the stack in `slot` on the transaction's table, for
    /// the other part of a trade.
    Give {
        slot: u16,
        count: u32,
    },
    /// Puts `amount` gold on the table.
    Pay {
        amount: u64,
    },
    /// Takes everything the other parts put on the table (after every
    /// part's other steps), into empty slots.
    TakeAll,
    /// One purchase of shop offer `offer` on `day`, against its daily
    /// `limit` (0: none): refused as [`EconomyError::SoldOut`] past it.
    Purchase {
        offer: u16,
        day: u32,
        limit: u32,
    },
    /// `add` towards battle pass mission `mission`: each `goal` reached pays
    /// `xp` pass experience, and the rest counts towards the next.
    Mission {
        mission: u16,
        add: u32,
        goal: u32,
        xp: u64,
    },
    /// Claims pass level `level` (1 to 64), reached at `xp`: refused if the
    /// pass has less, or the level is claimed already. Its reward is minted
    /// by the same transaction.
    Claim {
        level: u8,
        xp: u64,
    },
}

/// One inventory's steps in a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub character: CharacterId,
    /// The sequence number this transaction takes in that inventory: one
    /// past the last applied.
    pub seq: u64,
    pub ops: Vec<Op>,
}

/// A transaction: every part applies, or none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tx {
    pub parts: Vec<Part>,
}

/// What a transaction created and destroyed, by source and sink.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub minted: Vec<(ItemDefId, u64, Source)>,
    pub burned: Vec<(ItemDefId, u64, Sink)>,
    pub gold_in: Vec<(u64, Source)>,
    pub gold_out: Vec<(u64, Sink)>,
}

impl Receipt {
    /// What deleting a character destroys: everything its inventory holds,
    /// into [`Sink::Deleted`].
    pub fn deleted(inv: &Inventory) -> Receipt {
        Receipt {
            burned: inv
                .stacks()
                .map(|s| (s.def, u64::from(s.count), Sink::Deleted))
                .collect(),
            gold_out: (inv.gold > 0)
                .then_some((inv.gold, Sink::Deleted))
                .into_iter()
                .collect(),
            ..Receipt::default()
        }
    }
}

/// Why a transaction was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EconomyError {
    /// A part's sequence number is not one past its inventory's: a replay
    /// (already applied) or out of order.
    Sequence,
    /// No such slot, or an empty one where an item was needed.
    NoItem,
    /// Not a known item kind.
    UnknownItem,
    /// A count of 0, more than the stack holds, or past a stack's size.
    BadCount,
    NotEnoughGold,
    /// No room for what it would add.
    InventoryFull,
    /// The item cannot be worn, or cannot be enhanced that far.
    NotAllowed,
    /// A slot that had to be empty was not.
    SlotTaken,
    /// Gold past `u64::MAX`.
    Overflow,
    /// A trade left something on the table.
    Unbalanced,
    /// The parts do not match the inventories given, or name one twice.
    BadParts,
    /// A shop offer's daily limit is reached.
    SoldOut,
    /// A pass level's reward is claimed already.
    AlreadyClaimed,
    /// The pass has not reached that level.
    NotReached,
}

/// Carries out `tx` on `inventories` (one per part, in order), or refuses it
/// and leaves them as they were.
pub fn apply(
    tx: &Tx,
    inventories: &mut [Inventory],
    defs: &[ItemDef],
) -> Result<Receipt, EconomyError> {
    if tx.parts.is_empty() || tx.parts.len() != inventories.len() {
        return Err(EconomyError::BadParts);
    }
    // One inventory, one part: a trade with oneself would apply two copies
    // of the same inventory, and keep both.
    for (i, p) in tx.parts.iter().enumerate() {
        if tx.parts[..i].iter().any(|q| q.character == p.character) {
            return Err(EconomyError::BadParts);
        }
    }
    let mut work: Vec<Inventory> = inventories.to_vec();
    let mut run = Run {
        defs,
        receipt: Receipt::default(),
        table: Vec::new(),
        table_gold: Vec::new(),
    };
    for (i, (part, inv)) in tx.parts.iter().zip(work.iter_mut()).enumerate() {
        if part.seq != inv.seq.wrapping_add(1) {
            return Err(EconomyError::Sequence);
        }
        let mut minter = Minter { part, n: 0 };
        for op in &part.ops {
            if *op != Op::TakeAll {
                run.op(i, op, inv, &mut minter)?;
            }
        }
        inv.seq = part.seq;
    }
    for (i, (part, inv)) in tx.parts.iter().zip(work.iter_mut()).enumerate() {
        if part.ops.contains(&Op::TakeAll) {
            run.take_all(i, inv)?;
        }
    }
    if !run.table.is_empty() || !run.table_gold.is_empty() {
        return Err(EconomyError::Unbalanced);
    }
    inventories.clone_from_slice(&work);
    Ok(run.receipt)
}

/// New item ids for one part: (its character, its sequence, a counter).
struct Minter<'a> {
    part: &'a Part,
    n: u32,
}

impl Minter<'_> {
    fn next(&mut self) -> ItemId {
        self.n += 1;
        ItemId {
            minted_by: self.part.character,
            tx: self.part.seq,
            n: self.n,
        }
    }
}

struct Run<'a> {
    defs: &'a [ItemDef],
    receipt: Receipt,
    /// Stacks and gold on the trade table, with the part that put them.
    table: Vec<(usize, Stack)>,
    table_gold: Vec<(usize, u64)>,
}

impl Run<'_> {
    fn def(&self, def: ItemDefId) -> Result<&ItemDef, EconomyError> {
        self.defs
            .get(def.0 as usize)
            .ok_or(EconomyError::UnknownItem)
    }

    fn op(
        &mut self,
        part: usize,
        op: &Op,
        inv: &mut Inventory,
        minter: &mut Minter,
    ) -> Result<(), EconomyError> {
        match *op {
            Op::Mint {
                def,
                count,
                plus,
                source,
            } => {
                let d = self.def(def)?;
                if count == 0 || plus > d.max_plus || (plus > 0 && d.stacks()) {
                    return Err(EconomyError::BadCount);
                }
                mint(inv, d, count, plus, minter)?;
                self.receipt.minted.push((def, count as u64, source));
            }
            Op::Burn { slot, count, sink } => {
                let taken = take(inv, slot, count, minter)?;
                self.receipt.burned.push((taken.def, count as u64, sink));
            }
            Op::GoldIn { amount, source } => {
                inv.gold = inv.gold.checked_add(amount).ok_or(EconomyError::Overflow)?;
                self.receipt.gold_in.push((amount, source));
            }
            Op::GoldOut { amount, sink } => {
                inv.gold = inv
                    .gold
                    .checked_sub(amount)
                    .ok_or(EconomyError::NotEnoughGold)?;
                self.receipt.gold_out.push((amount, sink));
            }
            Op::Move { from, to } => self.move_stack(inv, from, to)?,
            Op::Split { from, to, count } => {
                if slot(inv, to)?.is_some() {
                    return Err(EconomyError::SlotTaken);
                }
                let s = slot(inv, from)?.ok_or(EconomyError::NoItem)?;
                if count == 0 || count >= s.count {
                    return Err(EconomyError::BadCount);
                }
                let part = take(inv, from, count, minter)?;
                inv.slots[to as usize] = Some(part);
            }
            Op::Equip { from } => {
                let s = slot(inv, from)?.ok_or(EconomyError::NoItem)?;
                let at = self.def(s.def)?.slot.ok_or(EconomyError::NotAllowed)?;
                let worn = inv.equipped[equip_index(at)].take();
                inv.equipped[equip_index(at)] = Some(s);
                inv.slots[from as usize] = worn;
            }
            Op::Unequip { slot: at, to } => {
                if slot(inv, to)?.is_some() {
                    return Err(EconomyError::SlotTaken);
                }
                let worn = inv.equipped[equip_index(at)]
                    .take()
                    .ok_or(EconomyError::NoItem)?;
                inv.slots[to as usize] = Some(worn);
            }
            Op::Sort => {
                let mut stacks: Vec<Stack> = inv.slots.iter().flatten().copied().collect();
                stacks.sort_by_key(|s| (s.def, std::cmp::Reverse(s.plus), s.id));
                let n = inv.slots.len();
                inv.slots = stacks.into_iter().map(Some).collect();
                inv.slots.resize(n, None);
            }
            Op::SetPlus { slot: at, plus } => {
                let s = slot(inv, at)?.ok_or(EconomyError::NoItem)?;
                if plus > self.def(s.def)?.max_plus {
                    return Err(EconomyError::NotAllowed);
                }
                if let Some(s) = inv.slots[at as usize].as_mut() {
                    s.plus = plus;
                }
            }
            Op::Give { slot, count } => {
                let given = take(inv, slot, count, minter)?;
                self.table.push((part, given));
            }
            Op::Pay { amount } => {
                if amount == 0 {
                    return Err(EconomyError::BadCount);
                }
                inv.gold = inv
                    .gold
                    .checked_sub(amount)
                    .ok_or(EconomyError::NotEnoughGold)?;
                self.table_gold.push((part, amount));
            }
            Op::TakeAll => unreachable!("taken after every part's other steps"),
            Op::Purchase { offer, day, limit } => {
                let shop = &mut inv.shop;
                if shop.day != day {
                    shop.day = day;
                    shop.bought.clear();
                }
                let i = match shop.bought.iter().position(|(o, _)| *o == offer) {
                    Some(i) => i,
                    None => {
                        shop.bought.push((offer, 0));
                        shop.bought.len() - 1
                    }
                };
                let n = &mut shop.bought[i].1;
                if limit > 0 && *n >= limit {
                    return Err(EconomyError::SoldOut);
                }
                *n += 1;
            }
            Op::Mission {
                mission,
                add,
                goal,
                xp,
            } => {
                if goal == 0 || mission as usize >= crate::content::MAX_MISSIONS {
                    return Err(EconomyError::BadCount);
                }
                let pass = &mut inv.pass;
                if pass.progress.len() <= mission as usize {
                    pass.progress.resize(mission as usize + 1, 0);
                }
                let total = u64::from(pass.progress[mission as usize]) + u64::from(add);
                let done = total / u64::from(goal);
                pass.progress[mission as usize] = (total % u64::from(goal)) as u32;
                let paid = done.checked_mul(xp).ok_or(EconomyError::Overflow)?;
                pass.xp = pass.xp.checked_add(paid).ok_or(EconomyError::Overflow)?;
            }
            Op::Claim { level, xp } => {
                if !(1..=64).contains(&level) {
                    return Err(EconomyError::NotReached);
                }
                if inv.pass.is_claimed(level) {
                    return Err(EconomyError::AlreadyClaimed);
                }
                if inv.pass.xp < xp {
                    return Err(EconomyError::NotReached);
                }
                inv.pass.claimed |= 1 << (level - 1);
            }
        }
        Ok(())
    }

    fn move_stack(&mut self, inv: &mut Inventory, from: u16, to: u16) -> Result<(), EconomyError> {
        let s = slot(inv, from)?.ok_or(EconomyError::NoItem)?;
        if from == to {
            return Ok(());
        }
        match slot(inv, to)? {
            Some(mut t) if t.def == s.def && t.plus == s.plus && self.def(s.def)?.stacks() => {
                let room = self.def(s.def)?.max_stack - t.count;
                let moved = room.min(s.count);
                t.count += moved;
                inv.slots[to as usize] = Some(t);
                inv.slots[from as usize] = (s.count > moved).then_some(Stack {
                    count: s.count - moved,
                    ..s
                });
            }
            other => {
                inv.slots[to as usize] = Some(s);
                inv.slots[from as usize] = other;
            }
        }
        Ok(())
    }

    /// Everything the other parts put on the table, into `inv`'s empty slots.
    fn take_all(&mut self, part: usize, inv: &mut Inventory) -> Result<(), EconomyError> {
        let mut kept = Vec::new();
        for (giver, stack) in std::mem::take(&mut self.table) {
            if giver == part {
                kept.push((giver, stack));
                continue;
            }
            let free = inv
                .slots
                .iter()
                .position(|s| s.is_none())
                .ok_or(EconomyError::InventoryFull)?;
            inv.slots[free] = Some(stack);
        }
        self.table = kept;
        let mut kept_gold = Vec::new();
        for (giver, amount) in std::mem::take(&mut self.table_gold) {
            if giver == part {
                kept_gold.push((giver, amount));
                continue;
            }
            inv.gold = inv.gold.checked_add(amount).ok_or(EconomyError::Overflow)?;
        }
        self.table_gold = kept_gold;
        Ok(())
    }
}

fn slot(inv: &Inventory, at: u16) -> Result<Option<Stack>, EconomyError> {
    inv.slots
        .get(at as usize)
        .copied()
        .ok_or(EconomyError::NoItem)
}

/// Takes `count` of the stack at `at`: the whole stack keeps its id; a part
/// of it leaves as a new stack with a new id.
fn take(
    inv: &mut Inventory,
    at: u16,
    count: u32,
    minter: &mut Minter,
) -> Result<Stack, EconomyError> {
    let s = slot(inv, at)?.ok_or(EconomyError::NoItem)?;
    if count == 0 || count > s.count {
        return Err(EconomyError::BadCount);
    }
    if count == s.count {
        inv.slots[at as usize] = None;
        return Ok(s);
    }
    inv.slots[at as usize] = Some(Stack {
        count: s.count - count,
        ..s
    });
    Ok(Stack {
        id: minter.next(),
        count,
        ..s
    })
}

fn mint(
    inv: &mut Inventory,
    def: &ItemDef,
    mut count: u32,
    plus: u8,
    minter: &mut Minter,
) -> Result<(), EconomyError> {
    if def.stacks() {
        for s in inv.slots.iter_mut().flatten() {
            if s.def == def.id && s.count < def.max_stack && count > 0 {
                let add = (def.max_stack - s.count).min(count);
                s.count += add;
                count -= add;
            }
        }
    }
    while count > 0 {
        let free = inv
            .slots
            .iter()
            .position(|s| s.is_none())
            .ok_or(EconomyError::InventoryFull)?;
        let here = count.min(def.max_stack);
        inv.slots[free] = Some(Stack {
            id: minter.next(),
            def: def.id,
            count: here,
            plus,
        });
        count -= here;
    }
    Ok(())
}
