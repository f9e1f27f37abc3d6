//! One example of every economy message (see `examples.rs`, which adds these
//! to its lists). The matches make adding a variant without an example a
//! compile error.

use super::{
    Catalogue, Cause, ClientEconomy, ClientMsg, Contact, EconomyRefusal, EnhanceOutcome,
    InventoryView, ItemInfo, LevelInfo, MissionInfo, OfferInfo, OfferView, PassProgress, PassView,
    ServerEconomy, ServerMsg, StepInfo, TradeEnd, TradeView,
};
use crate::content::{EquipSlot, ItemDefId, MissionKind};
use crate::economy::{ItemId, Stack};
use crate::ids::CharacterId;

fn sword() -> Stack {
    Stack {
        id: ItemId {
            minted_by: CharacterId(12),
            tx: 3,
            n: 1,
        },
        def: ItemDefId(0),
        count: 1,
        plus: 2,
    }
}

fn potions(count: u32) -> Stack {
    Stack {
        id: ItemId {
            minted_by: CharacterId(12),
            tx: 4,
            n: 1,
        },
        def: ItemDefId(11),
        count,
        plus: 0,
    }
}

fn bo() -> Contact {
    Contact {
        character: CharacterId(13),
        name: "Bo".into(),
    }
}

pub(super) fn client_messages() -> Vec<ClientMsg> {
    let all = vec![
        ClientEconomy::Move {
            req: 1,
            from: 0,
            to: 5,
        },
        ClientEconomy::Split {
            req: 2,
            from: 1,
            to: 6,
            count: 5,
        },
        ClientEconomy::Delete {
            req: 3,
            slot: 6,
            count: 5,
        },
        ClientEconomy::Equip { req: 4, from: 0 },
        ClientEconomy::Unequip {
            req: 5,
            slot: EquipSlot::Weapon,
            to: 0,
        },
        ClientEconomy::Sort { req: 6 },
        ClientEconomy::Buy { req: 7, offer: 2 },
        ClientEconomy::Sell {
            req: 8,
            slot: 1,
            count: 3,
        },
        ClientEconomy::Enhance { req: 9, slot: 0 },
        ClientEconomy::Claim { req: 10, level: 1 },
        ClientEconomy::TradeRequest {
            req: 11,
            name: "Bo".into(),
        },
        ClientEconomy::TradeAnswer {
            req: 12,
            from: CharacterId(13),
            accept: true,
        },
        ClientEconomy::TradeOffer {
            req: 13,
            items: vec![(0, 1), (1, 5)],
            gold: 250,
        },
        ClientEconomy::TradeConfirm {
            req: 14,
            version: 3,
        },
        ClientEconomy::TradeCancel { req: 15 },
    ];
    for m in &all {
        match m {
            ClientEconomy::Move { .. }
            | ClientEconomy::Split { .. }
            | ClientEconomy::Delete { .. }
            | ClientEconomy::Equip { .. }
            | ClientEconomy::Unequip { .. }
            | ClientEconomy::Sort { .. }
            | ClientEconomy::Buy { .. }
            | ClientEconomy::Sell { .. }
            | ClientEconomy::Enhance { .. }
            | ClientEconomy::Claim { .. }
            | ClientEconomy::TradeRequest { .. }
            | ClientEconomy::TradeAnswer { .. }
            | ClientEconomy::TradeOffer { .. }
            | ClientEconomy::TradeConfirm { .. }
            | ClientEconomy::TradeCancel { .. } => {}
        }
    }
    all.into_iter().map(ClientMsg::Economy).collect()
}

pub(super) fn server_messages() -> Vec<ServerMsg> {
    let mut all = vec![
        ServerEconomy::Inventory(InventoryView {
            seq: 4,
            gold: 1_250,
            slots: vec![Some(sword()), Some(potions(15)), None, None],
            equipped: vec![None; 7],
            bought_today: vec![(2, 1)],
            last_req: 8,
        }),
        ServerEconomy::Catalogue(Catalogue {
            items: vec![ItemInfo {
                name: "rusty_sword".into(),
                max_stack: 1,
                slot: Some(EquipSlot::Weapon),
                sell_price: 4,
                max_plus: 10,
            }],
            offers: vec![OfferInfo {
                item: ItemDefId(0),
                price: 30,
                count: 1,
                daily_limit: 0,
            }],
            stone: ItemDefId(12),
            steps: vec![StepInfo {
                cost_gold: 50,
                stones: 1,
                success: 900,
                fail: 100,
                downgrade: 0,
                destroy: 0,
            }],
        }),
        ServerEconomy::Pass(PassView {
            missions: vec![MissionInfo {
                name: "hunter".into(),
                kind: MissionKind::Kill,
                goal: 5,
                xp: 100,
            }],
            levels: vec![LevelInfo {
                xp: 100,
                item: Some((ItemDefId(11), 5)),
                gold: 0,
            }],
            progress: PassProgress {
                xp: 140,
                claimed: 1,
                progress: vec![2, 130, 0],
            },
        }),
        ServerEconomy::Changed {
            req: 9,
            cause: Cause::Request,
            seq: 5,
            gold: 1_200,
            slots: vec![(0, Some(sword())), (1, Some(potions(14)))],
            equipped: vec![(EquipSlot::Weapon, None)],
            pass: Some(PassProgress {
                xp: 220,
                claimed: 1,
                progress: vec![2, 130, 1],
            }),
            enhanced: Some(EnhanceOutcome::Success),
        },
        ServerEconomy::Refused {
            req: 10,
            reason: EconomyRefusal::NotReached,
        },
        ServerEconomy::TradeRequested {
            from: bo(),
            expires_ms: 30_000,
        },
        ServerEconomy::Trade(TradeView {
            with: bo(),
            version: 3,
            mine: OfferView {
                items: vec![sword()],
                gold: 250,
            },
            theirs: OfferView {
                items: vec![potions(5)],
                gold: 0,
            },
            confirmed: (true, false),
        }),
        ServerEconomy::TradeClosed {
            end: TradeEnd::Failed(EconomyRefusal::InventoryFull),
        },
    ];
    all.extend(
        [
            Cause::Loot,
            Cause::Trade,
            Cause::Grant,
            Cause::Mission,
            Cause::Raid,
        ]
        .map(|cause| ServerEconomy::Changed {
            req: 0,
            cause,
            seq: 6,
            gold: 1_210,
            slots: vec![(2, Some(potions(1)))],
            equipped: vec![],
            pass: None,
            enhanced: None,
        }),
    );
    for m in &all {
        match m {
            ServerEconomy::Inventory(_)
            | ServerEconomy::Catalogue(_)
            | ServerEconomy::Pass(_)
            | ServerEconomy::Changed { .. }
            | ServerEconomy::Refused { .. }
            | ServerEconomy::TradeRequested { .. }
            | ServerEconomy::Trade(_)
            | ServerEconomy::TradeClosed { .. } => {}
        }
    }
    all.into_iter().map(ServerMsg::Economy).collect()
}
