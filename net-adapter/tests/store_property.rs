//! The property, against every engine: random intent sequences (accounts,
//! characters, friendships, blocks, guilds, inventories and economy
//! transactions, whose inventories carry a battle pass and a shop day and
//! which give owed raid rewards or try to, raid runs owing rewards, and
//! leaderboard loads), with replays of earlier intents and batches of any
//! size, answer as `MemoryStore` and end with its characters, its social
//! records, its guilds, its inventories, its ledger, its leaderboards and
//! its owed rewards. The engines are chosen and skipped as in
//! `store_engines.rs` (see `common`).

mod common;

use common::*;
use game_core as gc;
use net_adapter::login::RegisterError as LoginRegisterError;
use net_adapter::store::Engine;

use gc::content::ItemDefId;
use gc::economy::{Inventory, ItemId, PassState, Receipt, ShopDay, Sink, Source, Stack};
use gc::ids::{AccountId, CharacterId, GuildId, IntentId};
use gc::persist::{
    AccountRef, Board, Change, CharacterRecord, GuildState, Intent, InventoryPart, MemoryStore,
    Outcome, RaidReward, RaidRun, RegisterError,
};
use gc::protocol::{ChatChannel, ChatLine, GuildRank};
use gc::raid::RaidScore;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestCaseError, TestRunner};

const DEV_NAMES: &[&str] = &[
    "ada",
    "Ada",
    "bob",
    "O'Brien",
    "x'); DROP TABLE accounts;--",
];
const CHAR_NAMES: &[&str] = &[
    "Ada", "ada", "ADA", "Bea", "Cyd", "o'brien", "O'BRIEN", "\"q\"", "50%_", "a\\b", "🐉", "t ",
];
/// Look-alikes of one another (by `guild_name_key`), and two that are not.
const GUILD_NAMES: &[&str] = &[
    "Night Watch",
    "night watch",
    "N1ght Watch",
    "Day Watch",
    "O'Brien's",
];
const VERSIONS: &[u64] = &[0, 1, 2, 3, 5, 1 << 63, (1 << 63) + 1, u64::MAX];
/// Gold, counts in receipts and item sequence numbers. (No inventory
/// sequence number near u64::MAX: deleting it would overflow the
/// reference's `seq + 1`.)
const AMOUNTS: &[u64] = &[0, 1, 7, 1 << 63, u64::MAX];
/// Claimed pass levels: none, level 1, level 64 (bit 63), some, all.
const CLAIMED: &[u64] = &[0, 1, 1 << 63, 0b1011, u64::MAX];
/// Progress and purchase counts (0 included: trailing zeros must stay).
const SMALL_U32S: &[u32] = &[0, 0, 1, 3, u32::MAX];
/// Shop days: the epoch, two days in a row, the last.
const DAYS: &[u32] = &[0, 19_000, 19_001, u32::MAX];
/// Raid kinds: two that differ only in case are two boards.
const RAIDS: &[&str] = &["ember_lair", "Ember_Lair"];
/// Leaderboard lengths asked for: none, one, some, the most, too many.
const TOPS: &[u16] = &[0, 1, 3, 100, u16::MAX];
/// Raid times and deaths: few, so that runs tie and the next column decides.
const RAID_U32S: &[u32] = &[0, 1, u32::MAX];
/// Damage and a run's `at`: across the top bit, so that an engine comparing
/// signed values misorders them.
const RAID_U64S: &[u64] = &[0, 1, 1 << 63, u64::MAX];
/// Raid run ids: few, so that a run is recorded again (retried, or with
/// another reward) and a grant names a run owed or not, or one given;
/// across the top bit, so that an engine ordering the owed by signed ids
/// misorders them.
const RUN_IDS: &[u64] = &[0, 1, 1 << 63, u64::MAX];

#[derive(Clone, Debug)]
enum Step {
    Fresh(Change),
    /// A transaction giving `character` the owed rewards of `runs`, made
    /// on the inventory `MemoryStore` holds as the batch is made, so that
    /// whether it applies is up to the rewards (a random commit's sequence
    /// numbers rarely meet the stored ones).
    Give(u64, Vec<u64>),
    /// An earlier intent again (index modulo the intents so far).
    Replay(usize),
}

#[derive(Clone, Debug)]
enum Op {
    Batch(Vec<Step>),
    Register(&'static str),
}

fn change_strategy() -> impl Strategy<Value = Change> {
    let account = 0u64..6;
    let character = 0u64..9;
    prop_oneof![
        2 => prop::sample::select(DEV_NAMES).prop_map(open_dev),
        1 => (0u64..7).prop_map(|a| Change::OpenAccount { account: AccountRef::Id(AccountId(a)) }),
        3 => (account.clone(), prop::sample::select(CHAR_NAMES), 0u8..4, -50i32..50, 0u16..3)
            .prop_map(|(a, name, max, x, level)| Change::CreateCharacter {
                account: AccountId(a),
                name: name.to_owned(),
                state: state("meadow", x, level),
                max_characters: max,
            }),
        1 => (account.clone(), character.clone()).prop_map(|(a, c)| Change::DeleteCharacter {
            account: AccountId(a),
            character: CharacterId(c),
        }),
        1 => (account, character.clone()).prop_map(|(a, c)| Change::LoadCharacter {
            account: AccountId(a),
            character: CharacterId(c),
        }),
        4 => (character.clone(), prop::sample::select(VERSIONS), -50i32..50)
            .prop_map(|(c, v, x)| save(c, v, x)),
        6 => prop_oneof![
            1 => character.clone().prop_map(|c| Change::LoadSocial { character: CharacterId(c) }),
            1 => (character.clone(), character.clone(), any::<bool>())
                .prop_map(|(a, b, friends)| Change::SetFriends {
                    a: CharacterId(a),
                    b: CharacterId(b),
                    friends,
                }),
            1 => (character.clone(), character.clone(), any::<bool>())
                .prop_map(|(by, whom, blocked)| Change::SetBlocked {
                    by: CharacterId(by),
                    whom: CharacterId(whom),
                    blocked,
                }),
            1 => (prop::sample::select(GUILD_NAMES), character.clone())
                .prop_map(|(name, c)| Change::CreateGuild {
                    name: name.to_owned(),
                    founder: CharacterId(c),
                }),
            2 => (1u64..4, prop::sample::select(VERSIONS), guild_state_strategy(1..7))
                .prop_map(|(g, version, state)| Change::SaveGuild {
                    guild: GuildId(g),
                    version,
                    state,
                }),
        ],
        5 => economy_strategy(),
        4 => raid_strategy(),
    ]
}

fn raid_score_strategy() -> impl Strategy<Value = RaidScore> {
    let u32s = || prop::sample::select(RAID_U32S);
    let u64s = || prop::sample::select(RAID_U64S);
    (any::<bool>(), u32s(), u32s(), u64s(), u64s()).prop_map(
        |(cleared, time_ms, deaths, damage, at)| RaidScore {
            cleared,
            time_ms,
            deaths,
            damage,
            at,
        },
    )
}

fn reward_strategy() -> impl Strategy<Value = RaidReward> {
    let item = (0u16..3, prop::sample::select(SMALL_U32S)).prop_map(|(d, n)| (ItemDefId(d), n));
    (prop::sample::select(AMOUNTS), prop::option::of(item))
        .prop_map(|(gold, item)| RaidReward { gold, item })
}

/// A run by characters that exist or not (and once twice in a run), owing
/// its reward to some of `owed` (that exist or not, once twice).
fn run_strategy(owed: std::ops::Range<u64>) -> impl Strategy<Value = Change> {
    let raid = prop::sample::select(RAIDS).prop_map(str::to_owned);
    let player = (
        0u64..9,
        prop::sample::select(CHAR_NAMES),
        raid_score_strategy(),
    )
        .prop_map(|(c, name, score)| (CharacterId(c), name.to_owned(), score));
    let owing = (
        prop::sample::select(RUN_IDS),
        prop::collection::vec(owed.prop_map(CharacterId), 0..4),
        reward_strategy(),
    );
    (
        raid,
        0u8..2,
        raid_score_strategy(),
        prop::collection::vec(player, 0..4),
        owing,
    )
        .prop_map(|(raid, level_group, group, players, (id, owed, reward))| {
            Change::RecordRaid {
                run: Box::new(RaidRun {
                    id,
                    raid,
                    level_group,
                    group,
                    players,
                    owed,
                    reward,
                }),
            }
        })
}

/// Runs, and loads of every board, with and without an own entry.
fn raid_strategy() -> impl Strategy<Value = Change> {
    let raid = || prop::sample::select(RAIDS).prop_map(str::to_owned);
    prop_oneof![
        3 => run_strategy(0..9),
        2 => (
            raid(),
            0u8..2,
            prop::sample::select(&Board::ALL[..]),
            prop::sample::select(TOPS),
            prop::option::of(0u64..9),
        )
            .prop_map(|(raid, level_group, board, top, character)| Change::LoadLeaderboard {
                raid,
                level_group,
                board,
                top,
                character: character.map(CharacterId),
            }),
    ]
}

/// The economy's changes: mostly commits, so that a batch holds runs of
/// them (the SQL store decides and writes a run at once); some give owed
/// raid rewards, owed or not, by runs recorded among them for the
/// characters that commit.
fn economy_strategy() -> impl Strategy<Value = Change> {
    let grants = prop_oneof![
        1 => Just(Vec::new()),
        1 => prop::collection::vec(prop::sample::select(RUN_IDS), 1..3),
    ];
    prop_oneof![
            1 => (0u64..9).prop_map(|c| Change::LoadInventory { character: CharacterId(c) }),
            // Deletions aimed at the first characters, which have inventories.
            1 => (1u64..3, 1u64..4).prop_map(|(a, c)| Change::DeleteCharacter {
                account: AccountId(a),
                character: CharacterId(c),
            }),
            3 => (prop::collection::vec(part_strategy(1..4), 1..3), receipt_strategy(), grants)
                .prop_map(|(parts, receipt, grants)| Change::CommitTx {
                    parts,
                    receipt: Box::new(receipt),
                    grants,
                }),
            2 => run_strategy(1..4),
    ]
}

/// Small sequence numbers, so that names, befores and retries meet.
fn part_strategy(character: std::ops::Range<u64>) -> impl Strategy<Value = InventoryPart> {
    let stack = (
        any::<bool>(),
        0usize..7,
        (0u64..3, prop::sample::select(AMOUNTS), 0u32..3),
        (0u16..3, 1u32..5, 0u8..3),
    );
    (
        character,
        0u64..4,
        // Mostly well formed (after = before + 1), so that commits apply.
        prop_oneof![4 => Just(1u64), 1 => 0u64..3],
        prop::sample::select(AMOUNTS),
        prop::collection::vec(stack, 0..5),
        pass_strategy(),
        shop_strategy(),
    )
        .prop_map(|(c, before, step, gold, stacks, pass, shop)| {
            let seq = before + step;
            let mut after = Inventory {
                gold,
                seq,
                pass,
                shop,
                ..Inventory::new(3)
            };
            for (worn, slot, (minted_by, tx, n), (def, count, plus)) in stacks {
                let stack = Stack {
                    id: ItemId {
                        minted_by: CharacterId(minted_by),
                        tx,
                        n,
                    },
                    def: ItemDefId(def),
                    count,
                    plus,
                };
                if worn {
                    after.equipped[slot] = Some(stack);
                } else {
                    after.slots[slot % 3] = Some(stack);
                }
            }
            InventoryPart {
                character: CharacterId(c),
                before,
                after,
            }
        })
}

fn pass_strategy() -> impl Strategy<Value = PassState> {
    (
        prop::sample::select(AMOUNTS),
        prop::sample::select(CLAIMED),
        prop::collection::vec(prop::sample::select(SMALL_U32S), 0..5),
    )
        .prop_map(|(xp, claimed, progress)| PassState {
            xp,
            claimed,
            progress,
        })
}

/// Purchases in any order, an offer more than once at times: the stores
/// keep what they are given.
fn shop_strategy() -> impl Strategy<Value = ShopDay> {
    (
        prop::sample::select(DAYS),
        prop::collection::vec((0u16..4, prop::sample::select(SMALL_U32S)), 0..4),
    )
        .prop_map(|(day, bought)| ShopDay { day, bought })
}

/// Few enough receipts that the same one comes up again under a used name.
fn receipt_strategy() -> impl Strategy<Value = Receipt> {
    prop_oneof![
        1 => Just(Receipt::default()),
        2 => (0u16..2, prop::sample::select(AMOUNTS)).prop_map(|(def, n)| Receipt {
            minted: vec![(ItemDefId(def), n, Source::Loot)],
            gold_out: vec![(n, Sink::Shop)],
            ..Receipt::default()
        }),
        1 => Just(Receipt {
            burned: vec![(ItemDefId(1), 2, Sink::Enhancement), (ItemDefId(0), 1, Sink::Deleted)],
            gold_in: vec![(3, Source::Grant), (4, Source::PassReward), (5, Source::Shop)],
            ..Receipt::default()
        }),
    ]
}

fn guild_state_strategy(character: std::ops::Range<u64>) -> impl Strategy<Value = GuildState> {
    let rank =
        prop::sample::select(&[GuildRank::Leader, GuildRank::Officer, GuildRank::Member][..]);
    let line = (
        character.clone(),
        prop::sample::select(CHAR_NAMES),
        prop::sample::select(CHAR_NAMES),
    )
        .prop_map(|(from, from_name, text)| ChatLine {
            channel: ChatChannel::Guild,
            from: CharacterId(from),
            from_name: from_name.to_owned(),
            text: text.to_owned(),
        });
    (
        prop::collection::vec((character, rank), 0..5),
        prop::collection::vec(line, 0..4),
    )
        .prop_map(|(members, history)| GuildState {
            members: members
                .into_iter()
                .map(|(c, r)| (CharacterId(c), r))
                .collect(),
            history,
        })
}

fn give_strategy() -> impl Strategy<Value = Step> {
    let runs = prop::collection::vec(prop::sample::select(RUN_IDS), 1..3);
    (1u64..4, runs).prop_map(|(c, runs)| Step::Give(c, runs))
}

/// The transaction of [`Step::Give`]: 25 gold in, on the stored inventory.
fn give(memory: &MemoryStore, character: u64, runs: &[u64]) -> Change {
    let character = CharacterId(character);
    let stored = memory.inventory(character);
    let before = stored.map_or(0, |i| i.seq);
    let mut after = stored.cloned().unwrap_or_else(|| Inventory::new(3));
    after.seq = before + 1;
    after.gold = after.gold.wrapping_add(25);
    Change::CommitTx {
        parts: vec![InventoryPart {
            character,
            before,
            after,
        }],
        receipt: Box::new(Receipt {
            gold_in: vec![(25, Source::Raid)],
            ..Receipt::default()
        }),
        grants: runs.to_vec(),
    }
}

fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    let step = prop_oneof![
        4 => change_strategy().prop_map(Step::Fresh),
        1 => give_strategy(),
        1 => any::<usize>().prop_map(Step::Replay),
    ];
    let commits = prop_oneof![
        4 => economy_strategy().prop_map(Step::Fresh),
        2 => give_strategy(),
        1 => any::<usize>().prop_map(Step::Replay),
    ];
    let op = prop_oneof![
        8 => prop::collection::vec(step, 1..12).prop_map(Op::Batch),
        3 => prop::collection::vec(commits, 1..16).prop_map(Op::Batch),
        1 => prop::sample::select(&["Ada", "ADA", "bob", "dev:ada", "O'Brien"][..]).prop_map(Op::Register),
    ];
    prop::collection::vec(op, 1..24)
}

async fn same_as_memory(db: &TestDb, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut memory = MemoryStore::default();
    let mut sent: Vec<Intent> = Vec::new();
    let mut next = 1u64;
    // An account with characters 1 to 3 first, whom commits and owed
    // rewards aim at, so that those apply often (the ops may delete them).
    let setup = [
        open_dev("raider"),
        create(1, "Raider1", 3),
        create(1, "Raider2", 3),
        create(1, "Raider3", 3),
    ];
    for change in setup {
        next += 1;
        let intent = Intent {
            id: IntentId(next),
            change,
        };
        let expected = memory.apply(&intent);
        prop_assert_eq!(
            db.store.apply_batch(std::slice::from_ref(&intent)).await,
            vec![expected]
        );
        sent.push(intent);
    }
    for op in ops {
        match op {
            Op::Batch(steps) => {
                let mut intents = Vec::new();
                for step in steps {
                    let intent = match step {
                        Step::Replay(i) if !sent.is_empty() => sent[i % sent.len()].clone(),
                        Step::Replay(_) => continue,
                        Step::Fresh(change) => {
                            next += 1;
                            Intent {
                                id: IntentId(next),
                                change: change.clone(),
                            }
                        }
                        Step::Give(character, runs) => {
                            next += 1;
                            Intent {
                                id: IntentId(next),
                                change: give(&memory, *character, runs),
                            }
                        }
                    };
                    sent.push(intent.clone());
                    intents.push(intent);
                }
                let expected: Vec<Outcome> = intents.iter().map(|i| memory.apply(i)).collect();
                let got = db.store.apply_batch(&intents).await;
                prop_assert_eq!(got, expected);
            }
            Op::Register(name) => {
                let expected = memory
                    .register(name, "hash")
                    .map_err(|RegisterError::NameTaken| LoginRegisterError::NameTaken);
                prop_assert_eq!(db.store.register(name, "hash").await, expected);
                prop_assert_eq!(
                    db.store.find_account(name).await.unwrap(),
                    memory.find_account(name)
                );
            }
        }
    }
    let expected: Vec<CharacterRecord> = memory.characters().cloned().collect();
    prop_assert_eq!(db.store.characters().await.unwrap(), expected);
    // Every character's friends, blocks and guilds, and every guild.
    let mut changes: Vec<Change> = (0..9)
        .map(|c| Change::LoadSocial {
            character: CharacterId(c),
        })
        .collect();
    // Every character's inventory and owed rewards.
    changes.extend((0..9).map(|c| Change::LoadInventory {
        character: CharacterId(c),
    }));
    // Every board whole, with each character's own entry.
    for raid in RAIDS {
        for level_group in 0..2 {
            for board in Board::ALL {
                changes.extend((0..9).map(|c| Change::LoadLeaderboard {
                    raid: (*raid).to_owned(),
                    level_group,
                    board,
                    top: u16::MAX,
                    character: Some(CharacterId(c)),
                }));
            }
        }
    }
    let loads: Vec<Intent> = (changes.into_iter().zip(next + 1..))
        .map(|(change, id)| Intent {
            id: IntentId(id),
            change,
        })
        .collect();
    let expected: Vec<Outcome> = loads.iter().map(|i| memory.apply(i)).collect();
    prop_assert_eq!(db.store.apply_batch(&loads).await, expected);
    for g in 0..8 {
        prop_assert_eq!(
            db.store.guild(GuildId(g)).await.unwrap(),
            memory.guild(GuildId(g))
        );
    }
    let inventories: Vec<_> = memory.inventories().map(|(c, i)| (c, i.clone())).collect();
    prop_assert_eq!(db.store.inventories().await.unwrap(), inventories);
    let ledger: Vec<_> = memory.ledger().map(|(n, r)| (*n, r.clone())).collect();
    prop_assert_eq!(db.store.ledger().await.unwrap(), ledger);
    let rewards: Vec<_> = (memory.raid_rewards())
        .map(|(c, run, reward, given)| (c, run, reward.clone(), given))
        .collect();
    prop_assert_eq!(db.store.raid_rewards().await.unwrap(), rewards);
    Ok(())
}

fn property(engine: Engine) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Reachable at all? (Skips loudly, or fails under CI, as every test does.)
    if rt.block_on(TestDb::new(engine)).is_none() {
        return;
    }
    let mut runner = TestRunner::new(PropConfig {
        cases: 24,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let outcome = runner.run(&ops_strategy(), |ops| {
        rt.block_on(async {
            let db = TestDb::new(engine).await.expect("reachable a moment ago");
            same_as_memory(&db, &ops).await
        })
    });
    if let Err(e) = outcome {
        panic!("{engine}: {e}");
    }
}

mod same_as_memory_store {
    use super::*;
    #[test]
    fn sqlite() {
        property(Engine::Sqlite)
    }
    #[test]
    fn postgres() {
        property(Engine::Postgres)
    }
    #[test]
    fn mysql() {
        property(Engine::MySql)
    }
}
