//! Loading the economy's tables: `items.toml` into [`ItemDef`]s, `shop.toml`
//! into [`ShopOffer`]s, `enhance.toml` into the [`EnhanceTable`], and each
//! monster's `loot` and gold (read with its monster by `loader.rs`).
//!
//! Beyond ranges, the checks keep the economy sound: equipment does not
//! stack, only equipment has stats or enhancement levels, a shop never sells
//! for less than it buys back (no gold from buying and selling), and the
//! enhancement odds of every step sum to 1000 per mille.

use super::files::{
    EnhanceFile, ItemEntryDef, ItemsFile, LootDef, MonsterDef, OfferDef, RarityDef, ShopFile,
    SlotDef, StepDef,
};
use super::items::{
    EnhanceStep, EnhanceTable, EquipSlot, ItemDef, ItemDefId, ItemStats, LootEntry, Rarity,
    ShopOffer, MAX_PLUS,
};
use super::loader::ContentError;
use super::reading::{dense_ids, unique_name, File};
use std::collections::BTreeMap;
use toml::Spanned;

/// The most gold a price, a step's cost or a drop may name (far below
/// `u64::MAX`, so sums of many never overflow).
pub(super) const MAX_GOLD: i64 = 1_000_000_000_000;
/// The largest stack of any item.
const MAX_STACK: i64 = 9_999;
/// The largest stat an item may give at +0: with `per_plus_pct` at most
/// [`MAX_PER_PLUS_PCT`], a +15 item's stat still fits a `u32`.
const MAX_STAT: i64 = 1_000_000;
const MAX_PER_PLUS_PCT: i64 = 1_000;
/// The most offers in the shop (the catalogue is sent whole at login).
const MAX_OFFERS: usize = 256;
/// The most purchases of one offer per player per day.
const MAX_DAILY_LIMIT: i64 = 10_000;
/// The most entries in one monster's loot list.
const MAX_LOOT: usize = 16;

/// Items by name, to resolve the names the other files give.
pub(super) type ItemsByName<'a> = BTreeMap<&'a str, &'a ItemDef>;

pub(super) fn items_by_name(items: &[ItemDef]) -> ItemsByName<'_> {
    items.iter().map(|i| (i.name.as_str(), i)).collect()
}

pub(super) fn load_items(file: File) -> Result<Vec<ItemDef>, ContentError> {
    let parsed: ItemsFile = file.parse()?;
    let ids = dense_ids(
        &file,
        &parsed.item.iter().map(|i| &i.id).collect::<Vec<_>>(),
        "item",
    )?;
    let mut names = BTreeMap::new();
    let mut items: Vec<Option<ItemDef>> = vec![None; ids.len()];
    for (def, id) in parsed.item.iter().zip(ids) {
        unique_name(&file, &mut names, &def.name, "item")?;
        items[id as usize] = Some(item(&file, def, ItemDefId(id))?);
    }
    Ok(items.into_iter().flatten().collect())
}

fn item(file: &File, def: &ItemEntryDef, id: ItemDefId) -> Result<ItemDef, ContentError> {
    let name = file.name(&def.name, "item")?;
    let max_stack: u32 = file.int(&def.max_stack, "max_stack", 1, MAX_STACK)?;
    let slot = def.slot.as_ref().map(|s| match s.get_ref() {
        SlotDef::Weapon => EquipSlot::Weapon,
        SlotDef::Head => EquipSlot::Head,
        SlotDef::Chest => EquipSlot::Chest,
        SlotDef::Legs => EquipSlot::Legs,
        SlotDef::Hands => EquipSlot::Hands,
        SlotDef::Feet => EquipSlot::Feet,
        SlotDef::Ring => EquipSlot::Ring,
    });
    if slot.is_some() && max_stack != 1 {
        return Err(file.at(
            def.max_stack.span(),
            format!(
                "max_stack is {max_stack}: equipment (an item with a slot) does not stack; it \
                 must be 1"
            ),
        ));
    }
    let max_plus: u8 = file.int_or(&def.max_plus, "max_plus", 0, MAX_PLUS.into(), 0)?;
    if let (Some(v), true) = (&def.max_plus, max_plus > 0) {
        if max_stack > 1 {
            return Err(file.at(
                v.span(),
                format!(
                    "max_plus is {max_plus}: a stackable item cannot be enhanced; it must be 0"
                ),
            ));
        }
        if slot.is_none() {
            return Err(file.at(
                v.span(),
                format!(
                    "max_plus is {max_plus}: only equipment (an item with a slot) is enhanced; \
                     it must be 0"
                ),
            ));
        }
    }
    let stat = |v: &Option<Spanned<i64>>, field: &str, max: i64| -> Result<u32, ContentError> {
        let n: u32 = file.int_or(v, field, 0, max, 0)?;
        match v {
            Some(v) if n > 0 && slot.is_none() => Err(file.at(
                v.span(),
                format!(
                    "{field} is {n}: only equipment (an item with a slot) has stats; it must be 0"
                ),
            )),
            _ => Ok(n),
        }
    };
    let stats = ItemStats {
        power: stat(&def.power, "power", MAX_STAT)?,
        armor: stat(&def.armor, "armor", MAX_STAT)?,
        health: stat(&def.health, "health", MAX_STAT)?,
    };
    let per_plus_pct = stat(&def.per_plus_pct, "per_plus_pct", MAX_PER_PLUS_PCT)? as u16;
    let rarity = match def.rarity.get_ref() {
        RarityDef::Common => Rarity::Common,
        RarityDef::Uncommon => Rarity::Uncommon,
        RarityDef::Rare => Rarity::Rare,
        RarityDef::Epic => Rarity::Epic,
        RarityDef::Legendary => Rarity::Legendary,
    };
    Ok(ItemDef {
        id,
        name,
        max_stack,
        slot,
        stats,
        per_plus_pct,
        rarity,
        sell_price: file.int(&def.sell_price, "sell_price", 0, MAX_GOLD)?,
        max_plus,
    })
}

/// The item a file names, or the error on the name's line (`role` says
/// where the name was given: "a loot entry's item").
pub(super) fn item_named<'a>(
    file: &File,
    items: &ItemsByName<'a>,
    name: &Spanned<String>,
    role: &str,
) -> Result<&'a ItemDef, ContentError> {
    items.get(name.get_ref().as_str()).copied().ok_or_else(|| {
        file.at(
            name.span(),
            format!(
                "unknown item \"{}\": {role} is a name from items.toml",
                name.get_ref()
            ),
        )
    })
}

/// A monster's loot list and gold range.
pub(super) fn monster_loot(
    file: &File,
    def: &MonsterDef,
    items: &ItemsByName<'_>,
) -> Result<(Vec<LootEntry>, (u64, u64)), ContentError> {
    if let Some(extra) = def.loot.get(MAX_LOOT) {
        return Err(file.at(
            extra.item.span(),
            format!("too many loot entries: a monster drops at most {MAX_LOOT} kinds of item"),
        ));
    }
    let mut loot: Vec<LootEntry> = Vec::with_capacity(def.loot.len());
    for entry in &def.loot {
        let LootDef {
            item,
            chance_pm,
            min,
            max,
        } = entry;
        let it = item_named(file, items, item, "a loot entry's item")?;
        if loot.iter().any(|l| l.item == it.id) {
            return Err(file.at(
                item.span(),
                format!(
                    "item \"{}\" is in the loot twice: one entry per item",
                    it.name
                ),
            ));
        }
        let stack = i64::from(it.max_stack);
        let min_n: u32 = file.int(min, "loot min", 1, stack)?;
        loot.push(LootEntry {
            item: it.id,
            chance_pm: file.int(chance_pm, "loot chance_pm", 1, 1000)?,
            min: min_n,
            max: file.int(max, "loot max", min_n.into(), stack)?,
        });
    }
    let gold = match (&def.gold_min, &def.gold_max) {
        (None, None) => (0, 0),
        (Some(min), Some(max)) => {
            let lo: u64 = file.int(min, "gold_min", 0, MAX_GOLD)?;
            (lo, file.int(max, "gold_max", lo as i64, MAX_GOLD)?)
        }
        (Some(one), None) | (None, Some(one)) => {
            return Err(file.at(
                one.span(),
                "gold_min and gold_max go together: give both, or neither for no gold",
            ))
        }
    };
    Ok((loot, gold))
}

pub(super) fn load_shop(
    file: File,
    items: &ItemsByName<'_>,
) -> Result<Vec<ShopOffer>, ContentError> {
    let parsed: ShopFile = file.parse()?;
    if parsed.offer.len() > MAX_OFFERS {
        return Err(file.at_no_line(format!("too many offers: at most {MAX_OFFERS}")));
    }
    let mut offers: Vec<ShopOffer> = Vec::with_capacity(parsed.offer.len());
    // (item, count) -> the byte offset of its first offer.
    let mut seen: BTreeMap<(ItemDefId, u32), usize> = BTreeMap::new();
    for def in &parsed.offer {
        let OfferDef {
            item,
            price,
            count,
            daily_limit,
        } = def;
        let it = item_named(&file, items, item, "an offer's item")?;
        let count: u32 = file.int_or(count, "count", 1, it.max_stack.into(), 1)?;
        if let Some(first) = seen.insert((it.id, count), item.span().start) {
            return Err(file.at(
                item.span(),
                format!(
                    "\"{}\" x{count} is offered twice (also on line {}): one offer per item and \
                     count",
                    it.name,
                    file.line(first)
                ),
            ));
        }
        let price: u64 = file.int(price, "price", 1, MAX_GOLD)?;
        let buy_back = it.sell_price * u64::from(count);
        if price < buy_back {
            return Err(file.at(
                def.price.span(),
                format!(
                    "price is {price}, less than the {buy_back} gold selling the {count} \"{}\" \
                     back pays: buying and selling would make gold; it must be at least {buy_back}",
                    it.name
                ),
            ));
        }
        offers.push(ShopOffer {
            item: it.id,
            price,
            count,
            daily_limit: file.int_or(daily_limit, "daily_limit", 0, MAX_DAILY_LIMIT, 0)?,
        });
    }
    Ok(offers)
}

pub(super) fn load_enhance(
    file: File,
    items: &ItemsByName<'_>,
) -> Result<EnhanceTable, ContentError> {
    let parsed: EnhanceFile = file.parse()?;
    let stone = item_named(&file, items, &parsed.stone, "the stone")?;
    if !stone.stacks() || stone.slot.is_some() {
        return Err(file.at(
            parsed.stone.span(),
            format!(
                "the stone \"{}\" must be a stackable item (max_stack above 1, no slot)",
                stone.name
            ),
        ));
    }
    let mut steps = Vec::with_capacity(MAX_PLUS.into());
    for (i, def) in parsed.step.iter().enumerate() {
        let level = i as i64 + 1;
        steps.push(step(&file, def, level)?);
    }
    if steps.len() < MAX_PLUS.into() {
        return Err(file.at_no_line(format!(
            "the steps stop at level {}: one [[step]] per level, 1 to {MAX_PLUS}",
            steps.len()
        )));
    }
    Ok(EnhanceTable {
        stone: stone.id,
        steps,
    })
}

/// The step reaching `level` (the file's `level` must say so).
fn step(file: &File, def: &StepDef, level: i64) -> Result<EnhanceStep, ContentError> {
    let StepDef {
        level: given,
        cost_gold,
        stones,
        success,
        fail,
        downgrade,
        destroy,
    } = def;
    if level > MAX_PLUS.into() {
        return Err(file.at(
            given.span(),
            format!("a step past level {MAX_PLUS}: one [[step]] per level, 1 to {MAX_PLUS}"),
        ));
    }
    if *given.get_ref() != level {
        return Err(file.at(
            given.span(),
            format!(
                "this step is for level {}, where level {level} was expected: the steps are \
                 levels 1 to {MAX_PLUS}, in order",
                given.get_ref()
            ),
        ));
    }
    let total = i64::from(EnhanceStep::ODDS_TOTAL);
    let step = EnhanceStep {
        cost_gold: file.int(cost_gold, "cost_gold", 0, MAX_GOLD)?,
        stones: file.int(stones, "stones", 0, MAX_STACK)?,
        success: file.int(success, "success", 1, total)?,
        fail: file.int(fail, "fail", 0, total)?,
        downgrade: file.int(downgrade, "downgrade", 0, total)?,
        destroy: file.int(destroy, "destroy", 0, total)?,
    };
    if level == 1 && step.downgrade > 0 {
        return Err(file.at(
            downgrade.span(),
            "downgrade is more than 0 for level 1: an item at +0 cannot go lower; it must be 0",
        ));
    }
    let sum = step.success + step.fail + step.downgrade + step.destroy;
    if sum != EnhanceStep::ODDS_TOTAL {
        return Err(file.at(
            success.span(),
            format!(
                "the odds of level {level} sum to {sum}: success, fail, downgrade and destroy are \
                 per mille and must sum to {total}"
            ),
        ));
    }
    Ok(step)
}
