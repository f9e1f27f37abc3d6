//! The economy domain's messages (tags 80-111): the inventory, equipment,
//! the shop, enhancement, the battle pass and player trade.
//!
//! Every request that changes what a character owns carries a number `req`
//! that the client raises by at least one per request; the server answers
//! each with exactly one [`ServerEconomy::Changed`] (naming it) or
//! [`ServerEconomy::Refused`]. A number not above the last one seen is
//! refused as [`EconomyRefusal::Replayed`]: a replayed or reordered request
//! is never applied. `Changed` is sent only once the store has the change
//! (an enhancement's outcome too: disconnecting cannot undo a roll), and it
//! carries the inventory's new sequence number and only what changed.
//! Slots are indices into the inventory's slot list.

use crate::content::{EquipSlot, ItemDefId, MissionKind};
use crate::economy::Stack;
use crate::ids::CharacterId;
use crate::protocol::Contact;
use serde::{Deserialize, Serialize};

/// Requests about what the character owns. Each carries `req` (see the
/// module's documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientEconomy {
    /// The stack in `from` to `to`: into an empty slot, merged into a stack
    /// of its kind (as much as fits), or swapped.
    Move { req: u32, from: u16, to: u16 },
    /// `count` of the stack in `from` into the empty slot `to`.
    Split {
        req: u32,
        from: u16,
        to: u16,
        count: u32,
    },
    /// Destroys `count` of the stack in `slot`.
    Delete { req: u32, slot: u16, count: u32 },
    /// Wears the item in `from`; what was worn there takes its slot.
    Equip { req: u32, from: u16 },
    /// Takes off what is worn at `slot`, into the empty slot `to`.
    Unequip { req: u32, slot: EquipSlot, to: u16 },
    /// Stacks in kind order, empty slots last.
    Sort { req: u32 },
    /// One purchase of the catalogue's offer number `offer`.
    Buy { req: u32, offer: u16 },
    /// Sells `count` of the stack in `slot` at its kind's sell price.
    Sell { req: u32, slot: u16, count: u32 },
    /// One enhancement attempt on the item in `slot`, at the odds the
    /// catalogue shows for its level.
    Enhance { req: u32, slot: u16 },
    /// Claims battle pass level `level`'s reward.
    Claim { req: u32, level: u8 },
    /// Asks the (online) character named `name` to trade.
    TradeRequest { req: u32, name: String },
    /// Answers [`ServerEconomy::TradeRequested`].
    TradeAnswer {
        req: u32,
        from: CharacterId,
        accept: bool,
    },
    /// What this side puts up now, replacing its last offer: (slot, count)
    /// pairs and gold. Clears both confirmations.
    TradeOffer {
        req: u32,
        items: Vec<(u16, u32)>,
        gold: u64,
    },
    /// Agrees to the trade as [`TradeView`] `version` shows it; refused as
    /// [`EconomyRefusal::TradeChanged`] if it has changed since.
    TradeConfirm { req: u32, version: u32 },
    /// Ends the trade (or declines to open one) without swapping anything.
    TradeCancel { req: u32 },
}

impl ClientEconomy {
    /// The request's number.
    pub fn req(&self) -> u32 {
        match *self {
            ClientEconomy::Move { req, .. }
            | ClientEconomy::Split { req, .. }
            | ClientEconomy::Delete { req, .. }
            | ClientEconomy::Equip { req, .. }
            | ClientEconomy::Unequip { req, .. }
            | ClientEconomy::Sort { req }
            | ClientEconomy::Buy { req, .. }
            | ClientEconomy::Sell { req, .. }
            | ClientEconomy::Enhance { req, .. }
            | ClientEconomy::Claim { req, .. }
            | ClientEconomy::TradeRequest { req, .. }
            | ClientEconomy::TradeAnswer { req, .. }
            | ClientEconomy::TradeOffer { req, .. }
            | ClientEconomy::TradeConfirm { req, .. }
            | ClientEconomy::TradeCancel { req } => req,
        }
    }

    /// A label for metrics: the kind of request.
    pub fn label(&self) -> &'static str {
        match self {
            ClientEconomy::Move { .. } => "move",
            ClientEconomy::Split { .. } => "split",
            ClientEconomy::Delete { .. } => "delete",
            ClientEconomy::Equip { .. } => "equip",
            ClientEconomy::Unequip { .. } => "unequip",
            ClientEconomy::Sort { .. } => "sort",
            ClientEconomy::Buy { .. } => "buy",
            ClientEconomy::Sell { .. } => "sell",
            ClientEconomy::Enhance { .. } => "enhance",
            ClientEconomy::Claim { .. } => "claim",
            ClientEconomy::TradeRequest { .. } => "trade_request",
            ClientEconomy::TradeAnswer { .. } => "trade_answer",
            ClientEconomy::TradeOffer { .. } => "trade_offer",
            ClientEconomy::TradeConfirm { .. } => "trade_confirm",
            ClientEconomy::TradeCancel { .. } => "trade_cancel",
        }
    }
}

/// The whole inventory (after entering the world, and after the server
/// reloaded it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryView {
    /// The last transaction applied to it.
    pub seq: u64,
    pub gold: u64,
    pub slots: Vec<Option<Stack>>,
    /// By [`EquipSlot::ALL`] order.
    pub equipped: Vec<Option<Stack>>,
    /// Shop purchases today (UTC): (offer, count).
    pub bought_today: Vec<(u16, u32)>,
    /// The last request number the server took from this character (0:
    /// none): a client, even a new one taking over, numbers on above it.
    pub last_req: u32,
}

/// An item kind, as the catalogue describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemInfo {
    pub name: String,
    pub max_stack: u32,
    pub slot: Option<EquipSlot>,
    /// What the shop pays for one.
    pub sell_price: u64,
    pub max_plus: u8,
}

/// One shop offer: `count` of `item` for `price` gold, at most `daily_limit`
/// times a day (0: no limit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferInfo {
    pub item: ItemDefId,
    pub price: u64,
    pub count: u32,
    pub daily_limit: u32,
}

/// Enhancing from level `n` to `n + 1` (`steps[n]`): its cost and per-mille
/// odds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInfo {
    pub cost_gold: u64,
    pub stones: u32,
    pub success: u16,
    pub fail: u16,
    pub downgrade: u16,
    pub destroy: u16,
}

/// The economy's tables, sent once after entering the world: item kinds by
/// id, the shop, and the enhancement odds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    /// By [`ItemDefId`].
    pub items: Vec<ItemInfo>,
    /// By offer number.
    pub offers: Vec<OfferInfo>,
    /// The item every enhancement consumes.
    pub stone: ItemDefId,
    pub steps: Vec<StepInfo>,
}

/// A battle pass mission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissionInfo {
    pub name: String,
    pub kind: MissionKind,
    pub goal: u32,
    pub xp: u64,
}

/// A battle pass level: reached at `xp`, rewarding `item` and `gold`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelInfo {
    pub xp: u64,
    pub item: Option<(ItemDefId, u32)>,
    pub gold: u64,
}

/// The character's pass: experience, claims (bit `n - 1`: level `n`) and
/// each mission's progress towards its next completion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassProgress {
    pub xp: u64,
    pub claimed: u64,
    pub progress: Vec<u32>,
}

/// The battle pass, sent once after entering the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassView {
    pub missions: Vec<MissionInfo>,
    pub levels: Vec<LevelInfo>,
    pub progress: PassProgress,
}

/// What made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// The client's request `req`.
    Request,
    /// A monster this character fought dropped it.
    Loot,
    /// A trade completed.
    Trade,
    /// An operator.
    Grant,
    /// Battle pass mission progress.
    Mission,
    /// A raid's reward, claimed.
    Raid,
}

/// How an enhancement attempt turned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnhanceOutcome {
    Success,
    Fail,
    Downgrade,
    Destroyed,
}

/// Why an economy request was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EconomyRefusal {
    /// The inventory is loading, or another change to it is on its way to
    /// the store: try again once it is answered.
    Busy,
    /// `req` is not above the last request's: a replay, or out of order.
    Replayed,
    /// No such slot, or nothing in it.
    NoItem,
    /// A count of 0, more than the stack holds, or past a stack's size.
    BadCount,
    NotEnoughGold,
    InventoryFull,
    /// That slot is taken.
    SlotTaken,
    /// The item cannot be worn, enhanced (further), or sold.
    NotAllowed,
    /// Gold past the largest amount.
    Overflow,
    /// No such shop offer or pass level.
    NoSuchOffer,
    /// The offer's daily limit is reached.
    SoldOut,
    AlreadyClaimed,
    /// The pass has not reached that level.
    NotReached,
    /// No character of that name is online.
    NotOnline,
    /// A trade with oneself.
    Yourself,
    /// Already trading (or asked to), or the other is.
    AlreadyTrading,
    /// No such trade or trade request.
    NoTrade,
    /// The trade changed since the version confirmed.
    TradeChanged,
    /// More items in one offer than a trade takes.
    TooManyItems,
    /// The store could not take the change; try again.
    Unavailable,
    /// Not enough enhancement stones for the step.
    NoStones,
}

impl EconomyRefusal {
    pub const ALL: [EconomyRefusal; 21] = [
        EconomyRefusal::Busy,
        EconomyRefusal::Replayed,
        EconomyRefusal::NoItem,
        EconomyRefusal::BadCount,
        EconomyRefusal::NotEnoughGold,
        EconomyRefusal::InventoryFull,
        EconomyRefusal::SlotTaken,
        EconomyRefusal::NotAllowed,
        EconomyRefusal::Overflow,
        EconomyRefusal::NoSuchOffer,
        EconomyRefusal::SoldOut,
        EconomyRefusal::AlreadyClaimed,
        EconomyRefusal::NotReached,
        EconomyRefusal::NotOnline,
        EconomyRefusal::Yourself,
        EconomyRefusal::AlreadyTrading,
        EconomyRefusal::NoTrade,
        EconomyRefusal::TradeChanged,
        EconomyRefusal::TooManyItems,
        EconomyRefusal::Unavailable,
        EconomyRefusal::NoStones,
    ];

    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            EconomyRefusal::Busy => "busy",
            EconomyRefusal::Replayed => "replayed",
            EconomyRefusal::NoItem => "no_item",
            EconomyRefusal::BadCount => "bad_count",
            EconomyRefusal::NotEnoughGold => "not_enough_gold",
            EconomyRefusal::InventoryFull => "inventory_full",
            EconomyRefusal::SlotTaken => "slot_taken",
            EconomyRefusal::NotAllowed => "not_allowed",
            EconomyRefusal::Overflow => "overflow",
            EconomyRefusal::NoSuchOffer => "no_such_offer",
            EconomyRefusal::SoldOut => "sold_out",
            EconomyRefusal::AlreadyClaimed => "already_claimed",
            EconomyRefusal::NotReached => "not_reached",
            EconomyRefusal::NotOnline => "not_online",
            EconomyRefusal::Yourself => "yourself",
            EconomyRefusal::AlreadyTrading => "already_trading",
            EconomyRefusal::NoTrade => "no_trade",
            EconomyRefusal::TradeChanged => "trade_changed",
            EconomyRefusal::TooManyItems => "too_many_items",
            EconomyRefusal::Unavailable => "unavailable",
            EconomyRefusal::NoStones => "no_stones",
        }
    }
}

/// One side of a trade as both see it: the stacks offered (each with the
/// count offered) and gold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    pub items: Vec<Stack>,
    pub gold: u64,
}

/// An open trade, sent to both sides after every change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeView {
    pub with: Contact,
    /// Raised by every change; a confirmation names the version it agrees to.
    pub version: u32,
    pub mine: OfferView,
    pub theirs: OfferView,
    /// Whether this side, and the other, confirmed this version.
    pub confirmed: (bool, bool),
}

/// How a trade ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TradeEnd {
    /// Both sides swapped, in one transaction the store has.
    Done,
    /// A side cancelled or declined.
    Cancelled,
    /// The other side left the world.
    Left,
    /// Nobody answered the request in time.
    Expired,
    /// The swap was refused (nothing moved).
    Failed(EconomyRefusal),
}

/// The economy domain's messages to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerEconomy {
    /// The whole inventory (after entering the world, or a reload).
    Inventory(InventoryView),
    /// The item kinds, the shop and the enhancement odds (once).
    Catalogue(Catalogue),
    /// The battle pass (once, after entering the world).
    Pass(PassView),
    /// A transaction the store has: the inventory's new sequence number and
    /// gold, the slots and worn places that changed, and the pass if it did.
    Changed {
        /// The request it answers (0 unless `cause` is `Request`).
        req: u32,
        cause: Cause,
        seq: u64,
        gold: u64,
        slots: Vec<(u16, Option<Stack>)>,
        equipped: Vec<(EquipSlot, Option<Stack>)>,
        pass: Option<PassProgress>,
        /// For an enhancement: how it went.
        enhanced: Option<EnhanceOutcome>,
    },
    /// Request `req` was refused; nothing changed.
    Refused { req: u32, reason: EconomyRefusal },
    /// `from` asks to trade; answer with [`ClientEconomy::TradeAnswer`]
    /// within `expires_ms`.
    TradeRequested { from: Contact, expires_ms: u32 },
    /// The open trade, after it opened and after every change.
    Trade(TradeView),
    /// The trade (or trade request) ended.
    TradeClosed { end: TradeEnd },
}
