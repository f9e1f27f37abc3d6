//! One suite of store tests, run against every engine: SQLite (always, in a
//! temporary directory), PostgreSQL at `MMO_TEST_POSTGRES_URL` and MariaDB or
//! MySQL at `MMO_TEST_MYSQL_URL`. Each test gets a fresh schema (PostgreSQL)
//! or database (MariaDB), dropped afterwards, so the tests run in parallel.
//! A server that cannot be reached fails the test when `CI` is set, and is
//! skipped with a loud line otherwise.
//!
//! `MemoryStore` is the reference: every engine must answer every intent as
//! it does, and end with the same characters. The fixture is in `common`;
//! the social changes' suite is `store_social.rs`, the random sequences
//! (every change) `store_property.rs`.

#[macro_use]
mod common;

use common::*;
use game_core as gc;
use net_adapter::login::{AccountStore, RegisterError as LoginRegisterError};
use net_adapter::store::{Engine, Store, StoreHandle, SubmitError, WorkerConfig, MAX_KEY_BYTES};

use gc::ids::{AccountId, CharacterId, IntentId};
use gc::persist::{
    AccountRef, Change, CharacterRecord, Intent, MemoryStore, Outcome, Reply, StoreError,
};
use std::time::Duration;
use tokio::sync::mpsc;

store_tests!(
    accounts_open_and_register_like_memory,
    characters_follow_the_rules_like_memory,
    a_refused_intent_does_not_abort_its_batch,
    sql_metacharacters_and_quotes_are_stored_verbatim,
    strings_no_engine_can_hold_are_refused_alone,
    versions_compare_as_unsigned,
    committed_data_survives_a_reopen,
    a_failed_transaction_answers_every_intent_unavailable,
    the_worker_commits_groups_and_answers_every_intent,
    a_full_queue_refuses_and_never_grows,
);

// ---------------------------------------------------------------------------
// The suite.

async fn accounts_open_and_register_like_memory(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    let ada = twin.register("Ada", "$argon2id$v=19$hash").await.unwrap();
    assert_eq!(
        twin.register("ADA", "x").await,
        Err(LoginRegisterError::NameTaken)
    );
    // Development accounts: created once, keyed by the name as typed, apart
    // from registered accounts.
    let out = twin
        .changes(vec![open_dev("Ada"), open_dev("Ada"), open_dev("ada")])
        .await;
    let dev = match result(&out, 0) {
        Ok(Reply::Account { account, .. }) => *account,
        other => panic!("{other:?}"),
    };
    assert_ne!(dev, ada);
    let open_id = |id| Change::OpenAccount {
        account: AccountRef::Id(AccountId(id)),
    };
    twin.changes(vec![
        open_id(ada.0),
        open_id(dev.0),
        open_id(99),
        open_id(u64::MAX),
    ])
    .await;
    let found = db.store.find_account("aDA").await.unwrap().unwrap();
    assert_eq!(Some(found.clone()), twin.memory.find_account("aDA"));
    assert_eq!(found.id, ada);
    assert_eq!(found.name, "Ada");
    assert_eq!(found.password_hash, "$argon2id$v=19$hash");
    // The login service reaches the same accounts through its trait.
    let accounts: std::sync::Arc<dyn AccountStore> = std::sync::Arc::new(db.store.clone());
    assert_eq!(
        accounts.find_account("ADA").await.unwrap().map(|a| a.id),
        Some(ada)
    );
    assert_eq!(
        accounts.register("ada", "h").await,
        Err(LoginRegisterError::NameTaken)
    );
    // A development account is not one to log in to.
    assert_eq!(db.store.find_account("dev:Ada").await.unwrap(), None);
    assert_eq!(db.store.find_account("nobody").await.unwrap(), None);
}

async fn characters_follow_the_rules_like_memory(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    twin.changes(vec![open_dev("ada"), open_dev("bob")]).await;
    let first = twin.intent(create(1, "Ada", 2));
    twin.batch(std::slice::from_ref(&first)).await;
    // The same creation again answers the same and makes no second character.
    twin.batch(&[first.clone(), first]).await;
    twin.changes(vec![
        create(1, "ADA", 2), // NameTaken, any case
        create(2, "ada", 2), // NameTaken across accounts
        create(1, "Bea", 2),
        create(1, "Cyd", 2), // TooManyCharacters
        create(9, "Dan", 2), // NoSuchAccount
        save(1, 1, 10),
        save(1, 3, 30),
        save(1, 2, 20), // older: Done, not kept
        save(1, 3, 99), // same version: not kept
        save(42, 1, 0), // NoSuchCharacter
        Change::LoadCharacter {
            account: AccountId(1),
            character: CharacterId(1),
        },
        Change::LoadCharacter {
            account: AccountId(2),
            character: CharacterId(1),
        },
        // Bob cannot delete Ada's character.
        Change::DeleteCharacter {
            account: AccountId(2),
            character: CharacterId(1),
        },
        Change::DeleteCharacter {
            account: AccountId(1),
            character: CharacterId(1),
        },
        Change::DeleteCharacter {
            account: AccountId(1),
            character: CharacterId(1),
        },
        Change::DeleteCharacter {
            account: AccountId(7),
            character: CharacterId(1),
        },
        save(1, 9, 0), // gone: NoSuchCharacter
        create(2, "ada", 2),
    ])
    .await;
    twin.same_characters().await;
    // A deleted character's id is never handed out again.
    let ids: Vec<u64> = db
        .store
        .characters()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(ids, vec![2, 3]);
}

async fn a_refused_intent_does_not_abort_its_batch(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    let out = twin
        .changes(vec![
            open_dev("ada"),
            create(1, "Ada", 3),
            create(1, "ada", 3),
            save(77, 1, 1),
            create(5, "Eve", 3),
            create(1, "Bea", 3),
            save(2, 1, 5),
        ])
        .await;
    assert_eq!(*result(&out, 2), Err(StoreError::NameTaken));
    assert_eq!(*result(&out, 3), Err(StoreError::NoSuchCharacter));
    assert_eq!(*result(&out, 4), Err(StoreError::NoSuchAccount));
    assert!(matches!(result(&out, 5), Ok(Reply::Characters(c)) if c.len() == 2));
    twin.same_characters().await;
}

const NASTY: &[&str] = &[
    "Robert'); DROP TABLE characters;--",
    "O'Brien",
    "''",
    "\"quoted\"",
    "back\\slash\\",
    "50%_off",
    "semi;colon",
    "`tick`",
    "$1 ? :name",
    "/* comment */",
    "trailing ",
    " leading",
    "ünïcödé",
    "🐉 dragon",
    "tab\tnew\nline",
];

async fn sql_metacharacters_and_quotes_are_stored_verbatim(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    for (i, name) in NASTY.iter().enumerate() {
        let account = twin.register(name, &format!("{name}#hash")).await.unwrap();
        let found = db.store.find_account(name).await.unwrap().unwrap();
        assert_eq!((found.id, found.name.as_str()), (account, *name));
        assert_eq!(found.password_hash, format!("{name}#hash"));
        let out = twin.changes(vec![open_dev(name)]).await;
        assert!(matches!(result(&out, 0), Ok(Reply::Account { name: n, .. }) if n == name));
        let dev = match result(&out, 0) {
            Ok(Reply::Account { account, .. }) => account.0,
            other => panic!("{other:?}"),
        };
        let mut change = create(dev, name, 4);
        if let Change::CreateCharacter { state, .. } = &mut change {
            state.place.map = format!("map {name}");
        }
        let out = twin.changes(vec![change, save(i as u64 + 1, 5, 5)]).await;
        assert!(matches!(result(&out, 0), Ok(Reply::Characters(c)) if c[0].name == *name));
    }
    twin.same_characters().await;
    // The tables are all still there.
    assert_eq!(db.store.characters().await.unwrap().len(), NASTY.len());
}

async fn strings_no_engine_can_hold_are_refused_alone(db: &mut TestDb) {
    let store = &db.store;
    let long = "x".repeat(MAX_KEY_BYTES + 1);
    let intents: Vec<Intent> = [
        open_dev("nul\0name"),
        open_dev("ada"),
        create(1, "bad\0name", 2),
        create(1, &long, 2),
        create(1, "Ada", 2),
        save(1, 1, 1),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, change)| Intent {
        id: IntentId(i as u64 + 1),
        change,
    })
    .collect();
    let out = store.apply_batch(&intents).await;
    let results: Vec<_> = out.iter().map(|o| o.result.clone().map(|_| ())).collect();
    assert_eq!(
        results,
        vec![
            Err(StoreError::Unavailable),
            Ok(()),
            Err(StoreError::Unavailable),
            Err(StoreError::Unavailable),
            Ok(()),
            Ok(()),
        ]
    );
    assert_eq!(
        store.register("nul\0", "h").await,
        Err(LoginRegisterError::Unavailable)
    );
    assert_eq!(store.find_account("nul\0").await, Ok(None));
}

async fn versions_compare_as_unsigned(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    let top = 1u64 << 63;
    twin.changes(vec![
        open_dev("ada"),
        create(1, "Ada", 1),
        save(1, top - 1, 1),
        save(1, top + 1, 2),
        save(1, top, 3),
        save(1, 5, 4),
        save(1, u64::MAX, 5),
        save(1, top + 7, 6),
    ])
    .await;
    twin.same_characters().await;
    let c = &db.store.characters().await.unwrap()[0];
    assert_eq!((c.version, c.state.place.pos.x.raw()), (u64::MAX, 5));
}

async fn committed_data_survives_a_reopen(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    twin.register("Zed", "hash").await.unwrap();
    twin.changes(vec![open_dev("ada"), create(2, "Ada", 2), save(1, 4, 44)])
        .await;
    let before = db.store.characters().await.unwrap();
    drop(twin);
    db.reopen().await;
    assert_eq!(db.store.characters().await.unwrap(), before);
    assert_eq!(before[0].version, 4);
    assert!(db.store.find_account("zed").await.unwrap().is_some());
    if db.engine == Engine::Sqlite {
        // Every pooled connection commits durably.
        assert_eq!(
            db.store.durability().await.unwrap(),
            "journal_mode=wal synchronous=2"
        );
        // The file is on disk where the URL said, in the directory the store made.
        let path = db.url.trim_start_matches("sqlite://");
        assert!(std::path::Path::new(path).is_file());
    }
    // Ids go on from where they were.
    let out = db
        .store
        .apply_batch(&[Intent {
            id: IntentId(100),
            change: create(2, "Bea", 2),
        }])
        .await;
    assert!(matches!(&out[0].result, Ok(Reply::Characters(c)) if c[1].id == CharacterId(2)));
}

async fn a_failed_transaction_answers_every_intent_unavailable(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    twin.changes(vec![open_dev("ada"), create(1, "Ada", 2)])
        .await;
    db.store.close().await;
    let intents = vec![
        Intent {
            id: IntentId(50),
            change: save(1, 9, 9),
        },
        Intent {
            id: IntentId(51),
            change: create(1, "Bea", 2),
        },
    ];
    let out = db.store.apply_batch(&intents).await;
    assert_eq!(
        out,
        vec![
            Outcome {
                id: IntentId(50),
                result: Err(StoreError::Unavailable)
            },
            Outcome {
                id: IntentId(51),
                result: Err(StoreError::Unavailable)
            },
        ]
    );
    // Nothing of it was applied.
    db.reopen().await;
    let c = db.store.characters().await.unwrap();
    assert_eq!((c.len(), c[0].version), (1, 0));
}

async fn the_worker_commits_groups_and_answers_every_intent(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    twin.changes(vec![open_dev("ada"), open_dev("bob")]).await;
    for i in 0..20u64 {
        twin.changes(vec![create(1 + i % 2, &format!("c{i}"), 10)])
            .await;
    }
    let (tx, mut rx) = mpsc::channel(4096);
    let (handle, worker) = StoreHandle::spawn(
        db.store.clone(),
        WorkerConfig {
            queue_capacity: 2048,
            max_batch: 256,
        },
        tx,
    );
    let save_of = |s: u64, n: u64| Intent {
        id: IntentId(1_000 + s * 1_000 + n),
        change: save(1 + (s * 250 + n) % 20, n + 1, n as i32),
    };
    let submitters: Vec<_> = (0..8u64)
        .map(|s| {
            let handle = handle.clone();
            tokio::spawn(async move {
                for n in 0..250u64 {
                    handle.try_submit(save_of(s, n)).unwrap();
                    if n % 50 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for s in submitters {
        s.await.unwrap();
    }
    let mut answered = 0;
    while answered < 2_000 {
        let o = rx.recv().await.expect("an outcome");
        assert_eq!(o.result, Ok(Reply::Done), "{o:?}");
        answered += 1;
    }
    let stats = handle.stats().snapshot();
    assert_eq!((stats.intents, stats.failed_batches), (2_000, 0));
    assert!(stats.batches < 2_000, "grouped: {stats:?}");
    assert!(stats.largest_batch <= 256);
    assert_eq!(handle.queue_depth(), 0);
    drop(handle);
    worker.await.unwrap();
    // Each character ends at its newest save (saves of one version carry
    // one state, so the order they were applied in does not matter).
    for s in 0..8 {
        for n in 0..250 {
            twin.memory.apply(&save_of(s, n));
        }
    }
    twin.same_characters().await;
}

async fn a_full_queue_refuses_and_never_grows(db: &mut TestDb) {
    // Outcomes are not read: the worker blocks on the second one, and the
    // queue (capacity 4) fills behind it.
    let (tx, mut rx) = mpsc::channel(1);
    let (handle, worker) = StoreHandle::spawn(
        db.store.clone(),
        WorkerConfig {
            queue_capacity: 4,
            max_batch: 2,
        },
        tx,
    );
    let load = |id: u64| Intent {
        id: IntentId(id),
        change: Change::LoadCharacter {
            account: AccountId(1),
            character: CharacterId(1),
        },
    };
    let mut accepted = 0u64;
    let mut refused = None;
    for id in 1..=200 {
        match handle.try_submit(load(id)) {
            Ok(()) => accepted += 1,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    match refused {
        Some(SubmitError::Full(intent)) => assert_eq!(intent, load(accepted + 1)),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(handle.queue_depth(), handle.queue_capacity());
    assert!(accepted <= 4 + 2 + 1 + 2, "accepted {accepted}");
    assert_eq!(handle.stats().snapshot().refused_full, 1);
    // Reading the outcomes lets the worker on: every accepted intent is answered.
    for id in 1..=accepted {
        let o = rx.recv().await.unwrap();
        assert_eq!(o.id, IntentId(id));
        assert_eq!(o.result, Err(StoreError::NoSuchCharacter));
    }
    drop(handle);
    worker.await.unwrap();
    assert!(rx.recv().await.is_none());
}

// ---------------------------------------------------------------------------
// SQLite after a crash: a child process (this test binary again) commits and
// exits at once, closing nothing; the parent reopens the file.

const CRASH_URL: &str = "MMO_STORE_CRASH_URL";
const CRASH_EXIT: i32 = 86;

fn crash_batch() -> Vec<Intent> {
    [open_dev("ada"), create(1, "Ada", 2), save(1, 7, 70)]
        .into_iter()
        .enumerate()
        .map(|(i, change)| Intent {
            id: IntentId(i as u64 + 1),
            change,
        })
        .collect()
}

/// The child half of `sqlite_commits_survive_a_crash`; does nothing unless
/// that test runs it.
#[test]
fn sqlite_crash_child() {
    let Ok(url) = std::env::var(CRASH_URL) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        for o in store.apply_batch(&crash_batch()).await {
            assert!(o.result.is_ok(), "{o:?}");
        }
        // Answered means committed: die now, nothing closed or checkpointed.
        std::process::exit(CRASH_EXIT);
    });
}

#[tokio::test]
async fn sqlite_commits_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/crash.db", dir.path().display());
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sqlite_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_URL, &url)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(CRASH_EXIT), "the child did not commit");
    let mut memory = MemoryStore::default();
    for intent in crash_batch() {
        memory.apply(&intent);
    }
    let store = Store::open(&url).await.unwrap();
    let expected: Vec<CharacterRecord> = memory.characters().cloned().collect();
    assert_eq!(store.characters().await.unwrap(), expected);
    assert_eq!(expected[0].version, 7);
}
