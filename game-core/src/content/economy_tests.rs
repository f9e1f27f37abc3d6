//! The economy's tables: the small set's `items.toml`, `shop.toml` and
//! `enhance.toml` (part of `tests.rs`'s base set), each kind of mistake
//! refused on its line, and the sample economy.

use super::tests::{assert_refused, base, edit, walkable, with, MONSTERS};
use super::*;

pub(super) const ITEMS: &str = r#"[[item]]
id = 0
name = "sword"
max_stack = 1
slot = "weapon"
power = 10
per_plus_pct = 10
rarity = "common"
sell_price = 5
max_plus = 15

[[item]]
id = 1
name = "potion"
max_stack = 20
rarity = "common"
sell_price = 2

[[item]]
id = 2
name = "stone"
max_stack = 99
rarity = "uncommon"
sell_price = 5
"#;

pub(super) const SHOP: &str = r#"[[offer]]
item = "potion"
price = 10
count = 5
daily_limit = 3

[[offer]]
item = "sword"
price = 50
"#;

// An inline array of steps: the same table as `[[step]]` tables.
pub(super) const ENHANCE: &str = r#"stone = "stone"
step = [
  { level = 1, cost_gold = 10, stones = 1, success = 900, fail = 100, downgrade = 0, destroy = 0 },
  { level = 2, cost_gold = 20, stones = 1, success = 900, fail = 100, downgrade = 0, destroy = 0 },
  { level = 3, cost_gold = 30, stones = 1, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 4, cost_gold = 40, stones = 1, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 5, cost_gold = 50, stones = 1, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 6, cost_gold = 60, stones = 2, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 7, cost_gold = 70, stones = 2, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 8, cost_gold = 80, stones = 2, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 9, cost_gold = 90, stones = 2, success = 700, fail = 200, downgrade = 100, destroy = 0 },
  { level = 10, cost_gold = 100, stones = 3, success = 500, fail = 200, downgrade = 200, destroy = 100 },
  { level = 11, cost_gold = 110, stones = 3, success = 500, fail = 200, downgrade = 200, destroy = 100 },
  { level = 12, cost_gold = 120, stones = 3, success = 500, fail = 200, downgrade = 200, destroy = 100 },
  { level = 13, cost_gold = 130, stones = 3, success = 500, fail = 200, downgrade = 200, destroy = 100 },
  { level = 14, cost_gold = 140, stones = 4, success = 500, fail = 200, downgrade = 200, destroy = 100 },
  { level = 15, cost_gold = 150, stones = 4, success = 500, fail = 200, downgrade = 200, destroy = 100 },
]
"#;

/// The base monsters with a rat dropping gold and potions (lines 13 to 17).
fn looting(loot_line: &str) -> &'static str {
    let tail = format!("experience = 10\ngold_min = 1\ngold_max = 3\nloot = [\n  {loot_line}\n]\n");
    edit(MONSTERS, "experience = 10\n", &tail)
}

const POTIONS: &str = r#"{ item = "potion", chance_pm = 100, min = 1, max = 2 },"#;

#[test]
fn the_small_economy_loads() {
    let c = Content::load(&base(), &walkable).unwrap();
    let sword = c.item_named("sword").unwrap();
    assert_eq!(c.item(ItemDefId(0)), Some(sword));
    assert_eq!(sword.slot, Some(EquipSlot::Weapon));
    assert_eq!((sword.stats.power, sword.per_plus_pct), (10, 10));
    assert_eq!((sword.max_stack, sword.max_plus), (1, 15));
    let potion = c.item(ItemDefId(1)).unwrap();
    assert!(potion.stacks());
    assert_eq!(potion.stats, ItemStats::default());
    assert_eq!((potion.slot, potion.max_plus), (None, 0));
    assert_eq!(c.item(ItemDefId(3)), None);
    assert_eq!(c.item_named("axe"), None);
    assert_eq!(
        c.shop,
        vec![
            ShopOffer {
                item: ItemDefId(1),
                price: 10,
                count: 5,
                daily_limit: 3
            },
            // count and daily_limit default to 1 and 0 (no limit).
            ShopOffer {
                item: ItemDefId(0),
                price: 50,
                count: 1,
                daily_limit: 0
            },
        ]
    );
    assert_eq!(c.enhance.stone, ItemDefId(2));
    assert_eq!(c.enhance.steps.len(), usize::from(MAX_PLUS));
    let first = c.enhance.step_from(0).unwrap();
    assert_eq!((first.cost_gold, first.stones, first.success), (10, 1, 900));
    assert_eq!(c.enhance.step_from(14).unwrap().destroy, 100);
    assert_eq!(c.enhance.step_from(MAX_PLUS), None);
    // A monster without loot drops nothing.
    assert_eq!(
        (c.monsters[0].loot.clone(), c.monsters[0].gold),
        (vec![], (0, 0))
    );
}

#[test]
fn a_monster_s_loot_and_gold_load() {
    let c = Content::load(&with("monsters.toml", looting(POTIONS)), &walkable).unwrap();
    let rat = &c.monsters[0];
    assert_eq!(rat.gold, (1, 3));
    assert_eq!(
        rat.loot,
        vec![LootEntry {
            item: ItemDefId(1),
            chance_pm: 100,
            min: 1,
            max: 2
        }]
    );
}

#[test]
fn a_missing_economy_file_is_refused_with_line_zero() {
    for name in ["items.toml", "shop.toml", "enhance.toml"] {
        let files: Vec<_> = base().into_iter().filter(|(n, _)| *n != name).collect();
        assert_refused(&files, name, 0, &format!("{name} is missing"));
    }
    assert_refused(
        &with("quests.toml", ""),
        "quests.toml",
        0,
        "items.toml, shop.toml, enhance.toml",
    );
}

#[test]
fn item_ids_and_names_are_checked() {
    let dup = edit(ITEMS, "id = 2", "id = 1");
    assert_refused(
        &with("items.toml", dup),
        "items.toml",
        20,
        "item id 1 is given twice (also on line 13)",
    );
    let sparse = edit(ITEMS, "id = 2", "id = 3");
    assert_refused(&with("items.toml", sparse), "items.toml", 20, "ids 0 to 2");
    let twice = edit(ITEMS, "name = \"stone\"", "name = \"potion\"");
    assert_refused(&with("items.toml", twice), "items.toml", 21, "given twice");
    let upper = edit(ITEMS, "name = \"stone\"", "name = \"Stone\"");
    assert_refused(&with("items.toml", upper), "items.toml", 21, "lowercase");
}

#[test]
fn an_item_s_shape_is_checked_on_its_line() {
    let slot = edit(ITEMS, "slot = \"weapon\"", "slot = \"tail\"");
    assert_refused(&with("items.toml", slot), "items.toml", 5, "tail");
    let rarity = edit(ITEMS, "rarity = \"uncommon\"", "rarity = \"mythic\"");
    assert_refused(&with("items.toml", rarity), "items.toml", 23, "mythic");
    let extra = edit(ITEMS, "sell_price = 2\n", "sell_price = 2\nweight = 1\n");
    assert_refused(&with("items.toml", extra), "items.toml", 18, "weight");
    let missing = edit(
        ITEMS,
        "rarity = \"common\"\nsell_price = 2\n",
        "sell_price = 2\n",
    );
    assert_refused(
        &with("items.toml", missing),
        "items.toml",
        12,
        "missing field `rarity`",
    );
}

#[test]
fn stacks_are_from_one_and_equipment_does_not_stack() {
    let zero = edit(ITEMS, "max_stack = 20", "max_stack = 0");
    assert_refused(
        &with("items.toml", zero),
        "items.toml",
        15,
        "max_stack is 0: it must be from 1",
    );
    let stacked = edit(ITEMS, "max_stack = 1\n", "max_stack = 5\n");
    assert_refused(
        &with("items.toml", stacked),
        "items.toml",
        4,
        "equipment (an item with a slot) does not stack",
    );
}

#[test]
fn only_equipment_is_enhanced_and_at_most_to_15() {
    let high = edit(ITEMS, "max_plus = 15", "max_plus = 16");
    assert_refused(
        &with("items.toml", high),
        "items.toml",
        10,
        "max_plus is 16: it must be from 0 to 15",
    );
    let stackable = edit(ITEMS, "sell_price = 2\n", "sell_price = 2\nmax_plus = 3\n");
    assert_refused(
        &with("items.toml", stackable),
        "items.toml",
        18,
        "a stackable item cannot be enhanced",
    );
    let single = edit(stackable, "max_stack = 20", "max_stack = 1");
    assert_refused(
        &with("items.toml", single),
        "items.toml",
        18,
        "only equipment (an item with a slot) is enhanced",
    );
}

#[test]
fn only_equipment_has_stats() {
    let stat = edit(ITEMS, "sell_price = 2\n", "sell_price = 2\nhealth = 50\n");
    assert_refused(
        &with("items.toml", stat),
        "items.toml",
        18,
        "health is 50: only equipment",
    );
    let pct = edit(
        ITEMS,
        "sell_price = 2\n",
        "sell_price = 2\nper_plus_pct = 5\n",
    );
    assert_refused(
        &with("items.toml", pct),
        "items.toml",
        18,
        "per_plus_pct is 5: only equipment",
    );
    let huge = edit(ITEMS, "power = 10", "power = 1000001");
    assert_refused(
        &with("items.toml", huge),
        "items.toml",
        6,
        "power is 1000001",
    );
}

#[test]
fn a_shop_offer_names_an_item_and_sells_at_a_sound_price() {
    let unknown = edit(SHOP, "\"sword\"", "\"axe\"");
    assert_refused(
        &with("shop.toml", unknown),
        "shop.toml",
        8,
        "unknown item \"axe\": an offer's item is a name from items.toml",
    );
    let free = edit(SHOP, "price = 50", "price = 0");
    assert_refused(&with("shop.toml", free), "shop.toml", 9, "price is 0");
    // Five potions sell back for 10: a price of 9 would make gold.
    let cheap = edit(SHOP, "price = 10", "price = 9");
    assert_refused(
        &with("shop.toml", cheap),
        "shop.toml",
        3,
        "buying and selling would make gold",
    );
    let over = edit(SHOP, "count = 5", "count = 21");
    assert_refused(
        &with("shop.toml", over),
        "shop.toml",
        4,
        "count is 21: it must be from 1 to 20",
    );
    let none = edit(SHOP, "count = 5", "count = 0");
    assert_refused(&with("shop.toml", none), "shop.toml", 4, "count is 0");
    let limit = edit(SHOP, "daily_limit = 3", "daily_limit = -1");
    assert_refused(
        &with("shop.toml", limit),
        "shop.toml",
        5,
        "daily_limit is -1",
    );
    let extra = edit(SHOP, "price = 50\n", "price = 50\nstock = 5\n");
    assert_refused(&with("shop.toml", extra), "shop.toml", 10, "stock");
}

#[test]
fn an_item_is_offered_once_per_count() {
    let twice = edit(
        SHOP,
        "item = \"sword\"\nprice = 50",
        "item = \"potion\"\nprice = 50\ncount = 5",
    );
    assert_refused(
        &with("shop.toml", twice),
        "shop.toml",
        8,
        "\"potion\" x5 is offered twice (also on line 2)",
    );
    let other_count = edit(
        SHOP,
        "item = \"sword\"\nprice = 50",
        "item = \"potion\"\nprice = 50",
    );
    let c = Content::load(&with("shop.toml", other_count), &walkable).unwrap();
    assert_eq!(c.shop[1].item, c.shop[0].item);
}

#[test]
fn the_enhancement_stone_is_a_stackable_item() {
    let unknown = edit(ENHANCE, "\"stone\"", "\"gem\"");
    assert_refused(
        &with("enhance.toml", unknown),
        "enhance.toml",
        1,
        "unknown item \"gem\": the stone is a name from items.toml",
    );
    let sword = edit(ENHANCE, "\"stone\"", "\"sword\"");
    assert_refused(
        &with("enhance.toml", sword),
        "enhance.toml",
        1,
        "must be a stackable item",
    );
}

#[test]
fn enhancement_odds_sum_to_1000() {
    let more = edit(ENHANCE, "success = 700", "success = 710");
    assert_refused(
        &with("enhance.toml", more),
        "enhance.toml",
        5,
        "the odds of level 3 sum to 1010",
    );
    let never = edit(
        ENHANCE,
        "success = 900, fail = 100",
        "success = 0, fail = 1000",
    );
    assert_refused(
        &with("enhance.toml", never),
        "enhance.toml",
        3,
        "success is 0: it must be from 1 to 1000",
    );
    let below = edit(
        ENHANCE,
        "success = 900, fail = 100, downgrade = 0",
        "success = 900, fail = 50, downgrade = 50",
    );
    assert_refused(
        &with("enhance.toml", below),
        "enhance.toml",
        3,
        "an item at +0 cannot go lower",
    );
    let negative = edit(ENHANCE, "destroy = 100", "destroy = -100");
    assert_refused(
        &with("enhance.toml", negative),
        "enhance.toml",
        12,
        "destroy is -100",
    );
}

#[test]
fn enhancement_steps_are_levels_1_to_15_in_order() {
    let swapped = edit(ENHANCE, "level = 2,", "level = 3,");
    assert_refused(
        &with("enhance.toml", swapped),
        "enhance.toml",
        4,
        "this step is for level 3, where level 2 was expected",
    );
    let last = "  { level = 15, cost_gold = 150, stones = 4, success = 500, fail = 200, downgrade = 200, destroy = 100 },\n";
    let short = edit(ENHANCE, last, "");
    assert_refused(
        &with("enhance.toml", short),
        "enhance.toml",
        0,
        "the steps stop at level 14",
    );
    let long = edit(
        ENHANCE,
        last,
        &format!("{last}{}", last.replace("15", "16")),
    );
    assert_refused(
        &with("enhance.toml", long),
        "enhance.toml",
        18,
        "a step past level 15",
    );
    let none = "stone = \"stone\"\n";
    assert_refused(
        &with("enhance.toml", none),
        "enhance.toml",
        0,
        "stop at level 0",
    );
}

#[test]
fn a_loot_entry_names_a_known_item_with_sound_odds_and_counts() {
    let unknown = looting(r#"{ item = "gem", chance_pm = 100, min = 1, max = 2 },"#);
    assert_refused(
        &with("monsters.toml", unknown),
        "monsters.toml",
        16,
        "unknown item \"gem\": a loot entry's item",
    );
    for (entry, says) in [
        (
            r#"{ item = "potion", chance_pm = 0, min = 1, max = 2 },"#,
            "loot chance_pm is 0",
        ),
        (
            r#"{ item = "potion", chance_pm = 1001, min = 1, max = 2 },"#,
            "from 1 to 1000",
        ),
        (
            r#"{ item = "potion", chance_pm = 100, min = 0, max = 2 },"#,
            "loot min is 0",
        ),
        (
            r#"{ item = "potion", chance_pm = 100, min = 3, max = 2 },"#,
            "loot max is 2: it must be from 3 to 20",
        ),
        (
            r#"{ item = "potion", chance_pm = 100, min = 1, max = 21 },"#,
            "loot max is 21",
        ),
        (
            r#"{ item = "sword", chance_pm = 100, min = 1, max = 2 },"#,
            "loot max is 2: it must be from 1 to 1",
        ),
        (
            r#"{ item = "potion", chance_pm = 100, min = 1, max = 2, rolls = 2 },"#,
            "rolls",
        ),
    ] {
        assert_refused(
            &with("monsters.toml", looting(entry)),
            "monsters.toml",
            16,
            says,
        );
    }
    let twice = looting(&format!("{POTIONS}\n  {POTIONS}"));
    assert_refused(
        &with("monsters.toml", twice),
        "monsters.toml",
        17,
        "item \"potion\" is in the loot twice",
    );
}

#[test]
fn a_monster_s_gold_is_a_range() {
    let reversed = edit(looting(POTIONS), "gold_min = 1", "gold_min = 4");
    assert_refused(
        &with("monsters.toml", reversed),
        "monsters.toml",
        14,
        "gold_max is 3: it must be from 4",
    );
    let alone = edit(looting(POTIONS), "gold_max = 3\n", "");
    assert_refused(
        &with("monsters.toml", alone),
        "monsters.toml",
        13,
        "gold_min and gold_max go together",
    );
}

// The sample economy.

#[test]
fn the_sample_economy_loads() {
    let c = Content::sample();
    assert!(
        (10..=20).contains(&c.items.len()),
        "{} items",
        c.items.len()
    );
    for rarity in [
        Rarity::Common,
        Rarity::Uncommon,
        Rarity::Rare,
        Rarity::Epic,
        Rarity::Legendary,
    ] {
        assert!(c.items.iter().any(|i| i.rarity == rarity), "{rarity:?}");
    }
    let worn = |slot| c.items.iter().any(|i| i.slot == Some(slot));
    assert!(worn(EquipSlot::Weapon) && worn(EquipSlot::Chest) && worn(EquipSlot::Ring));
    let potion = c.item_named("minor_potion").unwrap();
    assert_eq!((potion.max_stack, potion.slot), (20, None));
    let stone = c.item(c.enhance.stone).unwrap();
    assert_eq!(
        (stone.name.as_str(), stone.max_stack),
        ("enhancement_stone", 99)
    );
    assert!(
        c.items
            .iter()
            .any(|i| i.stacks() && i.sell_price > 0 && c.shop.iter().all(|o| o.item != i.id)),
        "a junk item sold but not bought"
    );
    assert!((5..=10).contains(&c.shop.len()));
    assert!(c.shop.iter().any(|o| o.item == c.enhance.stone));
    // The odds harden with the level, and only from +9 to +10 on may an
    // attempt destroy the item.
    for (i, pair) in c.enhance.steps.windows(2).enumerate() {
        assert!(pair[1].success <= pair[0].success, "step {}", i + 2);
        assert!(pair[1].cost_gold > pair[0].cost_gold, "step {}", i + 2);
    }
    for (i, s) in c.enhance.steps.iter().enumerate() {
        assert_eq!(s.destroy > 0, i + 1 >= 10, "level {}", i + 1);
    }
    // Every monster drops gold and something, more from the stronger.
    for pair in c.monsters.windows(2) {
        assert!(pair[1].gold.1 > pair[0].gold.1, "{}", pair[1].name);
    }
    for m in &c.monsters {
        assert!(m.gold.0 >= 1 && !m.loot.is_empty(), "{}", m.name);
    }
}

#[test]
fn a_monster_drops_at_most_16_kinds_of_item() {
    let entries: String = (0..17)
        .map(|i| format!("{{ item = \"item{i}\", chance_pm = 1, min = 1, max = 1 }},\n  "))
        .collect();
    assert_refused(
        &with("monsters.toml", looting(&entries)),
        "monsters.toml",
        32,
        "too many loot entries",
    );
}
