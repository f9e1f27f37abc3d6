//! Transactions one behaviour at a time.

use super::*;
use crate::content::{EquipSlot, ItemDef, ItemDefId, ItemStats, Rarity, ShopOffer};

pub(super) fn defs() -> Vec<ItemDef> {
    let def =
        |id: u16, name: &str, max_stack: u32, slot: Option<EquipSlot>, max_plus: u8| ItemDef {
            id: ItemDefId(id),
            name: name.into(),
            max_stack,
            slot,
            stats: ItemStats::default(),
            per_plus_pct: 10,
            rarity: Rarity::Common,
            sell_price: 5,
            max_plus,
        };
    vec![
        def(0, "sword", 1, Some(EquipSlot::Weapon), 10),
        def(1, "potion", 20, None, 0),
        def(2, "helm", 1, Some(EquipSlot::Head), 10),
        def(3, "stone", 99, None, 0),
    ]
}

const ADA: CharacterId = CharacterId(1);
const BO: CharacterId = CharacterId(2);
const SWORD: ItemDefId = ItemDefId(0);
const POTION: ItemDefId = ItemDefId(1);

fn one(character: CharacterId, inv: &Inventory, ops: Vec<Op>) -> Tx {
    Tx {
        parts: vec![Part {
            character,
            seq: inv.seq + 1,
            ops,
        }],
    }
}

fn run(inv: &mut Inventory, ops: Vec<Op>) -> Result<Receipt, EconomyError> {
    let tx = one(ADA, inv, ops);
    apply(&tx, std::slice::from_mut(inv), &defs())
}

fn mint(def: ItemDefId, count: u32) -> Op {
    Op::Mint {
        def,
        count,
        plus: 0,
        source: Source::Loot,
    }
}

#[test]
fn minted_stackables_top_up_their_kind_then_fill_empty_slots() {
    let mut inv = Inventory::new(4);
    run(&mut inv, vec![mint(POTION, 15)]).unwrap();
    let receipt = run(&mut inv, vec![mint(POTION, 30)]).unwrap();
    assert_eq!(receipt.minted, [(POTION, 30, Source::Loot)]);
    let counts: Vec<u32> = inv.slots.iter().flatten().map(|s| s.count).collect();
    assert_eq!(counts, [20, 20, 5]);
    assert_eq!(inv.count_of(POTION), 45);
    assert_eq!(inv.seq, 2);
}

#[test]
fn a_refused_transaction_changes_nothing() {
    let mut inv = Inventory::new(2);
    run(
        &mut inv,
        vec![Op::GoldIn {
            amount: 50,
            source: Source::Grant,
        }],
    )
    .unwrap();
    let before = inv.clone();
    // Three swords do not fit two slots: the gold spent first is not spent.
    let refused = run(
        &mut inv,
        vec![
            Op::GoldOut {
                amount: 30,
                sink: Sink::Shop,
            },
            mint(SWORD, 3),
        ],
    );
    assert_eq!(refused, Err(EconomyError::InventoryFull));
    assert_eq!(inv, before);
    assert_eq!(
        run(
            &mut inv,
            vec![Op::GoldOut {
                amount: 51,
                sink: Sink::Shop
            }]
        ),
        Err(EconomyError::NotEnoughGold)
    );
}

#[test]
fn a_replayed_or_skipped_sequence_is_refused() {
    let mut inv = Inventory::new(2);
    let tx = one(ADA, &inv, vec![mint(POTION, 1)]);
    apply(&tx, std::slice::from_mut(&mut inv), &defs()).unwrap();
    // The same transaction again: already applied.
    assert_eq!(
        apply(&tx, std::slice::from_mut(&mut inv), &defs()),
        Err(EconomyError::Sequence)
    );
    let mut gap = one(ADA, &inv, vec![mint(POTION, 1)]);
    gap.parts[0].seq += 1;
    assert_eq!(
        apply(&gap, std::slice::from_mut(&mut inv), &defs()),
        Err(EconomyError::Sequence)
    );
    assert_eq!(inv.count_of(POTION), 1);
}

#[test]
fn splitting_makes_a_new_id_and_moving_merges_or_swaps() {
    let mut inv = Inventory::new(4);
    run(&mut inv, vec![mint(POTION, 10), mint(SWORD, 1)]).unwrap();
    run(
        &mut inv,
        vec![Op::Split {
            from: 0,
            to: 2,
            count: 4,
        }],
    )
    .unwrap();
    let (a, b) = (inv.slots[0].unwrap(), inv.slots[2].unwrap());
    assert_eq!((a.count, b.count), (6, 4));
    assert_ne!(a.id, b.id);
    run(&mut inv, vec![Op::Move { from: 2, to: 0 }]).unwrap();
    assert_eq!((inv.slots[0].unwrap().count, inv.slots[2]), (10, None));
    run(&mut inv, vec![Op::Move { from: 0, to: 1 }]).unwrap();
    assert_eq!(inv.slots[0].unwrap().def, SWORD, "swapped");
    assert_eq!(
        run(
            &mut inv,
            vec![Op::Split {
                from: 1,
                to: 0,
                count: 1
            }]
        ),
        Err(EconomyError::SlotTaken)
    );
}

#[test]
fn equipping_swaps_with_what_is_worn_and_only_wearables_are_worn() {
    let mut inv = Inventory::new(3);
    run(&mut inv, vec![mint(SWORD, 2), mint(POTION, 1)]).unwrap();
    let first = inv.slots[0].unwrap().id;
    run(&mut inv, vec![Op::Equip { from: 0 }]).unwrap();
    assert_eq!(inv.equipped(EquipSlot::Weapon).unwrap().id, first);
    run(&mut inv, vec![Op::Equip { from: 1 }]).unwrap();
    assert_eq!(
        inv.slots[1].unwrap().id,
        first,
        "the old sword took its slot"
    );
    assert_eq!(
        run(&mut inv, vec![Op::Equip { from: 2 }]),
        Err(EconomyError::NotAllowed)
    );
    run(
        &mut inv,
        vec![Op::Unequip {
            slot: EquipSlot::Weapon,
            to: 0,
        }],
    )
    .unwrap();
    assert!(inv.equipped(EquipSlot::Weapon).is_none());
}

#[test]
fn enhancement_levels_stop_at_the_kind_s_maximum() {
    let mut inv = Inventory::new(2);
    run(&mut inv, vec![mint(SWORD, 1)]).unwrap();
    run(&mut inv, vec![Op::SetPlus { slot: 0, plus: 10 }]).unwrap();
    assert_eq!(
        run(&mut inv, vec![Op::SetPlus { slot: 0, plus: 11 }]),
        Err(EconomyError::NotAllowed)
    );
}

#[test]
fn a_trade_swaps_both_sides_at_once_and_keeps_item_ids() {
    let defs = defs();
    let mut invs = [Inventory::new(3), Inventory::new(3)];
    run(&mut invs[0], vec![mint(SWORD, 1)]).unwrap();
    run(
        &mut invs[1],
        vec![Op::GoldIn {
            amount: 100,
            source: Source::Loot,
        }],
    )
    .unwrap();
    let sword = invs[0].slots[0].unwrap().id;
    let trade = |a: &Inventory, b: &Inventory, price: u64| Tx {
        parts: vec![
            Part {
                character: ADA,
                seq: a.seq + 1,
                ops: vec![Op::Give { slot: 0, count: 1 }, Op::TakeAll],
            },
            Part {
                character: BO,
                seq: b.seq + 1,
                ops: vec![Op::Pay { amount: price }, Op::TakeAll],
            },
        ],
    };
    // Bo cannot pay 150: neither side changes.
    let before = invs.clone();
    assert_eq!(
        apply(&trade(&invs[0], &invs[1], 150), &mut invs, &defs),
        Err(EconomyError::NotEnoughGold)
    );
    assert_eq!(invs, before);
    let receipt = apply(&trade(&invs[0], &invs[1], 60), &mut invs, &defs).unwrap();
    assert_eq!(
        receipt,
        Receipt::default(),
        "a trade creates and destroys nothing"
    );
    assert_eq!((invs[0].gold, invs[1].gold), (60, 40));
    assert_eq!(invs[1].slots[0].unwrap().id, sword);
    assert!(invs[0].slots[0].is_none());
}

#[test]
fn a_trade_that_leaves_the_table_full_is_unbalanced() {
    let defs = defs();
    let mut invs = [Inventory::new(2), Inventory::new(2)];
    run(&mut invs[0], vec![mint(SWORD, 1)]).unwrap();
    let tx = Tx {
        parts: vec![
            Part {
                character: ADA,
                seq: 2,
                ops: vec![Op::Give { slot: 0, count: 1 }],
            },
            Part {
                character: BO,
                seq: 1,
                ops: vec![],
            },
        ],
    };
    assert_eq!(apply(&tx, &mut invs, &defs), Err(EconomyError::Unbalanced));
}

#[test]
fn a_trade_with_oneself_is_refused() {
    let defs = defs();
    let mut inv = Inventory::new(2);
    run(&mut inv, vec![mint(SWORD, 1)]).unwrap();
    let offer = actions::Offer {
        items: vec![(0, 1)],
        gold: 0,
    };
    let tx = actions::trade((ADA, &inv, &offer), (ADA, &inv, &actions::Offer::default()));
    let mut two = [inv.clone(), inv.clone()];
    assert_eq!(apply(&tx, &mut two, &defs), Err(EconomyError::BadParts));
}

#[test]
fn a_gift_is_a_trade_with_nothing_on_one_side() {
    let defs = defs();
    let mut invs = [Inventory::new(2), Inventory::new(2)];
    run(&mut invs[0], vec![mint(POTION, 5)]).unwrap();
    let gift = actions::Offer {
        items: vec![(0, 2)],
        gold: 0,
    };
    let tx = actions::trade(
        (ADA, &invs[0], &gift),
        (BO, &invs[1], &actions::Offer::default()),
    );
    apply(&tx, &mut invs, &defs).unwrap();
    assert_eq!((invs[0].count_of(POTION), invs[1].count_of(POTION)), (3, 2));
}

#[test]
fn buying_and_selling_move_gold_and_items_through_the_shop() {
    let defs = defs();
    let mut inv = Inventory::new(3);
    run(
        &mut inv,
        vec![Op::GoldIn {
            amount: 100,
            source: Source::Grant,
        }],
    )
    .unwrap();
    let offer = |price| ShopOffer {
        item: POTION,
        price,
        count: 10,
        daily_limit: 0,
    };
    let tx = actions::buy(ADA, &inv, 0, &offer(150), 0);
    assert_eq!(
        apply(&tx, std::slice::from_mut(&mut inv), &defs),
        Err(EconomyError::NotEnoughGold)
    );
    let tx = actions::buy(ADA, &inv, 0, &offer(60), 0);
    let receipt = apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    assert_eq!(receipt.gold_out, [(60, Sink::Shop)]);
    assert_eq!(receipt.minted, [(POTION, 10, Source::Shop)]);
    let tx = actions::sell(ADA, &inv, 0, 4, 5).unwrap();
    apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    assert_eq!((inv.gold, inv.count_of(POTION)), (60, 6));
    assert!(actions::sell(ADA, &inv, 0, 4, u64::MAX).is_none());
}

#[test]
fn an_enhancement_pays_gold_and_stones_from_several_stacks_and_applies_its_outcome() {
    use actions::{enhance, Enhanced, Odds};
    let defs = defs();
    let stone = ItemDefId(3);
    let odds = Odds {
        success: 600,
        fail: 250,
        downgrade: 100,
        destroy: 50,
    };
    assert_eq!(odds.outcome(0), Enhanced::Success);
    assert_eq!(odds.outcome(599), Enhanced::Success);
    assert_eq!(odds.outcome(600), Enhanced::Fail);
    assert_eq!(odds.outcome(900), Enhanced::Downgrade);
    assert_eq!(odds.outcome(999), Enhanced::Destroyed);
    let mut inv = Inventory::new(4);
    run(
        &mut inv,
        vec![
            mint(SWORD, 1),
            Op::GoldIn {
                amount: 100,
                source: Source::Grant,
            },
            Op::Mint {
                def: stone,
                count: 3,
                plus: 0,
                source: Source::Loot,
            },
        ],
    )
    .unwrap();
    run(
        &mut inv,
        vec![Op::Split {
            from: 1,
            to: 2,
            count: 1,
        }],
    )
    .unwrap();
    let tx = enhance(ADA, &inv, 0, 0, (40, stone, 3), Enhanced::Success).unwrap();
    let receipt = apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    assert_eq!(inv.slots[0].unwrap().plus, 1);
    assert_eq!((inv.gold, inv.count_of(stone)), (60, 0));
    assert_eq!(receipt.burned.len(), 2, "stones from two stacks");
    assert!(enhance(ADA, &inv, 0, 1, (40, stone, 1), Enhanced::Success).is_none());
    run(
        &mut inv,
        vec![Op::Mint {
            def: stone,
            count: 2,
            plus: 0,
            source: Source::Loot,
        }],
    )
    .unwrap();
    let tx = enhance(ADA, &inv, 0, 1, (10, stone, 1), Enhanced::Destroyed).unwrap();
    apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    assert_eq!(inv.count_of(SWORD), 0);
}

#[test]
fn loot_mints_items_and_gold_from_loot() {
    let defs = defs();
    let mut inv = Inventory::new(3);
    let tx = actions::loot(ADA, &inv, &[(POTION, 3), (SWORD, 1)], 25);
    let receipt = apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    assert_eq!(receipt.gold_in, [(25, Source::Loot)]);
    assert_eq!(
        (inv.count_of(POTION), inv.count_of(SWORD), inv.gold),
        (3, 1, 25)
    );
}

#[test]
fn a_daily_limit_counts_purchases_per_day_and_starts_again_the_next() {
    let defs = defs();
    let mut inv = Inventory::new(3);
    run(
        &mut inv,
        vec![Op::GoldIn {
            amount: 100,
            source: Source::Grant,
        }],
    )
    .unwrap();
    let offer = ShopOffer {
        item: POTION,
        price: 10,
        count: 1,
        daily_limit: 2,
    };
    for _ in 0..2 {
        let tx = actions::buy(ADA, &inv, 3, &offer, 7);
        apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    }
    let tx = actions::buy(ADA, &inv, 3, &offer, 7);
    let before = inv.clone();
    assert_eq!(
        apply(&tx, std::slice::from_mut(&mut inv), &defs),
        Err(EconomyError::SoldOut)
    );
    assert_eq!(inv, before, "a refused purchase changes nothing");
    assert_eq!(inv.shop.bought_on(7, 3), 2);
    let tx = actions::buy(ADA, &inv, 3, &offer, 8);
    apply(&tx, std::slice::from_mut(&mut inv), &defs).unwrap();
    assert_eq!((inv.shop.bought_on(8, 3), inv.shop.bought_on(7, 3)), (1, 0));
    assert_eq!(inv.gold, 70);
}

#[test]
fn missions_pay_pass_experience_and_each_level_is_claimed_once() {
    let content = crate::content::Content::sample();
    let pass = &content.pass;
    let defs = &content.items;
    let mut inv = Inventory::new(10);
    // Two kills short of the hunter's goal: no experience yet.
    let goal = pass.missions[0].goal;
    let tx = actions::missions(ADA, &inv, pass, &[(0, goal - 2)]);
    apply(&tx, std::slice::from_mut(&mut inv), defs).unwrap();
    assert_eq!((inv.pass.xp, inv.pass.progress_of(0)), (0, goal - 2));
    let tx = actions::claim(ADA, &inv, pass, 1).unwrap();
    assert_eq!(
        apply(&tx, std::slice::from_mut(&mut inv), defs),
        Err(EconomyError::NotReached)
    );
    // Two goals and one over: paid twice, one carried.
    let tx = actions::missions(ADA, &inv, pass, &[(0, goal + 3)]);
    apply(&tx, std::slice::from_mut(&mut inv), defs).unwrap();
    assert_eq!(inv.pass.xp, 2 * pass.missions[0].xp);
    assert_eq!(inv.pass.progress_of(0), 1);
    let tx = actions::claim(ADA, &inv, pass, 1).unwrap();
    let receipt = apply(&tx, std::slice::from_mut(&mut inv), defs).unwrap();
    let (def, count) = pass.levels[0].item.unwrap();
    assert_eq!(
        receipt.minted,
        [(def, u64::from(count), Source::PassReward)]
    );
    assert!(inv.pass.is_claimed(1));
    let tx = actions::claim(ADA, &inv, pass, 1).unwrap();
    assert_eq!(
        apply(&tx, std::slice::from_mut(&mut inv), defs),
        Err(EconomyError::AlreadyClaimed)
    );
    assert!(actions::claim(ADA, &inv, pass, 0).is_none());
    assert!(actions::claim(ADA, &inv, pass, 99).is_none());
}
