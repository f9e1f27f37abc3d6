//! What a player does, as transactions: buying, selling, enhancing, looting,
//! trading. Each builds the [`Tx`] for the inventories as they are; [`apply`]
//! then decides whether it goes through. Nothing here rolls dice: an
//! enhancement's roll comes from the caller (the server's seeded stream), so
//! the outcome is decided, and stored, before anyone sees it.
//!
//! [`apply`]: super::apply

use super::{Inventory, Op, Part, Sink, Source, Tx};
use crate::content::{BattlePass, ItemDefId, ShopOffer};
use crate::ids::CharacterId;

/// A one-part transaction on `inv` of `character`.
pub fn solo(character: CharacterId, inv: &Inventory, ops: Vec<Op>) -> Tx {
    Tx {
        parts: vec![Part {
            character,
            seq: inv.seq + 1,
            ops,
        }],
    }
}

/// One purchase of shop offer number `index` on `day` (days since the unix
/// epoch): its price in gold, its items, and a count against its daily limit.
pub fn buy(character: CharacterId, inv: &Inventory, index: u16, offer: &ShopOffer, day: u32) -> Tx {
    solo(
        character,
        inv,
        vec![
            Op::Purchase {
                offer: index,
                day,
                limit: offer.daily_limit,
            },
            Op::GoldOut {
                amount: offer.price,
                sink: Sink::Shop,
            },
            Op::Mint {
                def: offer.item,
                count: offer.count,
                plus: 0,
                source: Source::Shop,
            },
        ],
    )
}

/// Claims battle pass level `level`'s reward, from [`Source::PassReward`].
/// `None` if the pass has no such level.
pub fn claim(character: CharacterId, inv: &Inventory, pass: &BattlePass, level: u8) -> Option<Tx> {
    let l = pass.level(level)?;
    let mut ops = vec![Op::Claim { level, xp: l.xp }];
    if let Some((def, count)) = l.item {
        ops.push(Op::Mint {
            def,
            count,
            plus: 0,
            source: Source::PassReward,
        });
    }
    if l.gold > 0 {
        ops.push(Op::GoldIn {
            amount: l.gold,
            source: Source::PassReward,
        });
    }
    Some(solo(character, inv, ops))
}

/// Progress on pass missions: `(mission index, amount)` pairs, each against
/// its mission's goal and pay. Unknown missions are skipped.
pub fn missions(
    character: CharacterId,
    inv: &Inventory,
    pass: &BattlePass,
    progress: &[(u16, u32)],
) -> Tx {
    let ops = progress
        .iter()
        .filter(|(_, add)| *add > 0)
        .filter_map(|&(mission, add)| {
            let m = pass.missions.get(mission as usize)?;
            Some(Op::Mission {
                mission,
                add,
                goal: m.goal,
                xp: m.xp,
            })
        })
        .collect();
    solo(character, inv, ops)
}

/// Selling `count` of the stack in `slot` at `unit_price` each. `None` if
/// the price overflows.
pub fn sell(
    character: CharacterId,
    inv: &Inventory,
    slot: u16,
    count: u32,
    unit_price: u64,
) -> Option<Tx> {
    let amount = unit_price.checked_mul(count as u64)?;
    Some(solo(
        character,
        inv,
        vec![
            Op::Burn {
                slot,
                count,
                sink: Sink::Shop,
            },
            Op::GoldIn {
                amount,
                source: Source::Shop,
            },
        ],
    ))
}

/// How an enhancement attempt turned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enhanced {
    /// One level up.
    Success,
    /// The level stays.
    Fail,
    /// One level down.
    Downgrade,
    /// The item is gone.
    Destroyed,
}

/// The odds of an enhancement step, per mille (they sum to 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Odds {
    pub success: u16,
    pub fail: u16,
    pub downgrade: u16,
    pub destroy: u16,
}

impl Odds {
    /// The outcome of `roll`, a number in 0..1000.
    pub fn outcome(&self, roll: u16) -> Enhanced {
        let roll = roll % 1000;
        if roll < self.success {
            Enhanced::Success
        } else if roll < self.success + self.fail {
            Enhanced::Fail
        } else if roll < self.success + self.fail + self.downgrade {
            Enhanced::Downgrade
        } else {
            Enhanced::Destroyed
        }
    }
}

/// One enhancement attempt on the item in `slot` (at level `plus`): pays
/// `cost_gold` and `stones` of `stone` (from as many stacks as it takes), and
/// applies `outcome`. `None` if there are not enough stones.
pub fn enhance(
    character: CharacterId,
    inv: &Inventory,
    slot: u16,
    plus: u8,
    cost: (u64, ItemDefId, u32),
    outcome: Enhanced,
) -> Option<Tx> {
    let (cost_gold, stone, mut stones) = cost;
    let mut ops = vec![Op::GoldOut {
        amount: cost_gold,
        sink: Sink::Enhancement,
    }];
    for (i, s) in inv.slots.iter().enumerate() {
        let Some(s) = s.filter(|s| s.def == stone) else {
            continue;
        };
        if stones == 0 {
            break;
        }
        let n = s.count.min(stones);
        ops.push(Op::Burn {
            slot: i as u16,
            count: n,
            sink: Sink::Enhancement,
        });
        stones -= n;
    }
    if stones > 0 {
        return None;
    }
    ops.push(match outcome {
        Enhanced::Success => Op::SetPlus {
            slot,
            plus: plus.saturating_add(1),
        },
        Enhanced::Fail => Op::SetPlus { slot, plus },
        Enhanced::Downgrade => Op::SetPlus {
            slot,
            plus: plus.saturating_sub(1),
        },
        Enhanced::Destroyed => Op::Burn {
            slot,
            count: 1,
            sink: Sink::Enhancement,
        },
    });
    Some(solo(character, inv, ops))
}

/// A monster's drop for one player: items and gold, from loot.
pub fn loot(character: CharacterId, inv: &Inventory, items: &[(ItemDefId, u32)], gold: u64) -> Tx {
    gain(character, inv, items, gold, Source::Loot)
}

/// A won raid's reward: `items` minted and `gold` in, from [`Source::Raid`].
pub fn raid_reward(
    character: CharacterId,
    inv: &Inventory,
    items: &[(ItemDefId, u32)],
    gold: u64,
) -> Tx {
    gain(character, inv, items, gold, Source::Raid)
}

fn gain(
    character: CharacterId,
    inv: &Inventory,
    items: &[(ItemDefId, u32)],
    gold: u64,
    source: Source,
) -> Tx {
    let mut ops: Vec<Op> = items
        .iter()
        .map(|&(def, count)| Op::Mint {
            def,
            count,
            plus: 0,
            source,
        })
        .collect();
    if gold > 0 {
        ops.push(Op::GoldIn {
            amount: gold,
            source,
        });
    }
    solo(character, inv, ops)
}

/// What one side of a trade puts up: (slot, count) pairs and gold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    pub items: Vec<(u16, u32)>,
    pub gold: u64,
}

/// Both sides' offers swapped in one transaction.
pub fn trade(a: (CharacterId, &Inventory, &Offer), b: (CharacterId, &Inventory, &Offer)) -> Tx {
    let part = |(character, inv, offer): (CharacterId, &Inventory, &Offer)| {
        let mut ops: Vec<Op> = offer
            .items
            .iter()
            .map(|&(slot, count)| Op::Give { slot, count })
            .collect();
        if offer.gold > 0 {
            ops.push(Op::Pay { amount: offer.gold });
        }
        ops.push(Op::TakeAll);
        Part {
            character,
            seq: inv.seq + 1,
            ops,
        }
    };
    Tx {
        parts: vec![part(a), part(b)],
    }
}
