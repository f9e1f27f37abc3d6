//! `GET /v1/leaderboards/{raid}/{level_group}` over a real socket: served
//! from the reference store and from every SQL engine (chosen and skipped
//! as in `store_engines.rs`), with its bounds answered as JSON errors.

#[macro_use]
mod common;
mod login_support;

use common::*;
use game_core::auth::SigningKey;
use game_core::ids::{CharacterId, IntentId};
use game_core::persist::{group_entrant, Change, Intent, MemoryStore, RaidRun, Reply};
use game_core::raid::RaidScore;
use login_support::*;
use net_adapter::login::AccountStore;
use net_adapter::store::Engine;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

store_tests!(every_engine_serves_the_board_the_reference_serves);

fn score(time_ms: u32, deaths: u32) -> RaidScore {
    RaidScore {
        cleared: true,
        time_ms,
        deaths,
        damage: 5_000,
        at: u64::from(time_ms),
    }
}

/// Characters c1..=c12 (ids 1..=12), then runs of ember_lair, level group
/// 1: c1..c12 alone, c{i} in 1000 - 10 i ms (c12 fastest), and c1 with c2
/// as a group in 2000 ms.
fn changes() -> Vec<Change> {
    let mut changes = vec![open_dev("ada")];
    changes.extend((1..=12).map(|i| create(1, &format!("c{i}"), 20)));
    let run = |players: &[u64], time_ms: u32| Change::RecordRaid {
        run: Box::new(RaidRun {
            raid: "ember_lair".to_owned(),
            level_group: 1,
            group: score(time_ms, 1),
            players: (players.iter())
                .map(|&c| (CharacterId(c), format!("c{c}"), score(time_ms, 0)))
                .collect(),
            ..RaidRun::default()
        }),
    };
    changes.extend((1..=12).map(|i| run(&[i], 1_000 - 10 * i as u32)));
    changes.push(run(&[2, 1], 2_000));
    changes
}

fn intents() -> Vec<Intent> {
    (changes().into_iter().zip(1..))
        .map(|(change, id)| Intent {
            id: IntentId(id),
            change,
        })
        .collect()
}

fn reference() -> MemoryStore {
    let mut memory = MemoryStore::default();
    for intent in intents() {
        let outcome = memory.apply(&intent);
        assert!(outcome.result.is_ok(), "{outcome:?}");
    }
    memory
}

async fn start(store: Arc<dyn AccountStore>) -> Running {
    Running::start_with(config(), store, SigningKey::from_seed(&[5; 32])).await
}

fn ranks(body: &Value) -> Vec<(u64, String)> {
    (body["top"].as_array().unwrap().iter())
        .map(|e| {
            let rank = e["rank"].as_u64().unwrap();
            (rank, e["entrant"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaderboard_is_served_in_rank_order_with_the_own_entry() {
    let service = start(Arc::new(Mutex::new(reference()))).await;

    let reply = service
        .get("/v1/leaderboards/ember_lair/1?character=3")
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert_eq!(
        (&body["raid"], &body["level_group"], &body["board"]),
        (&json!("ember_lair"), &json!(1), &json!("players"))
    );
    // Ten by default: c12 (fastest) down to c3.
    let expected: Vec<(u64, String)> = (1..=10).map(|r| (r, (13 - r).to_string())).collect();
    assert_eq!(ranks(&body), expected);
    assert_eq!(
        body["top"][0],
        json!({
            "rank": 1, "entrant": "12", "names": ["c12"], "cleared": true,
            "time_ms": 880, "deaths": 0, "damage": 5000,
        })
    );
    assert_eq!(body["own"], body["top"][9]);

    // c1 is 12th: past the top asked for, still its own entry.
    let body = service
        .get("/v1/leaderboards/ember_lair/1?board=players&top=2&character=1")
        .await
        .json();
    assert_eq!(ranks(&body).len(), 2);
    assert_eq!(
        (&body["own"]["rank"], &body["own"]["time_ms"]),
        (&json!(12), &json!(990))
    );

    // The groups' board: 13 groups, the pair last; no own entry there.
    let body = service
        .get("/v1/leaderboards/ember_lair/1?board=groups&top=100&character=1")
        .await
        .json();
    let top = body["top"].as_array().unwrap();
    assert_eq!(top.len(), 13);
    let pair = group_entrant([CharacterId(1), CharacterId(2)]);
    assert_eq!(top[12]["entrant"], json!(pair.to_string()));
    assert_eq!(top[12]["names"], json!(["c1", "c2"]));
    assert_eq!(
        (&top[12]["deaths"], &body["own"]),
        (&json!(1), &Value::Null)
    );

    // Another level group, a raid with no runs, top=0: empty, not an error.
    for path in [
        "/v1/leaderboards/ember_lair/0?character=1",
        "/v1/leaderboards/training_grounds/1",
        "/v1/leaderboards/ember_lair/1?top=0",
    ] {
        let body = service.get(path).await.json();
        assert_eq!(body["top"], json!([]), "{path}");
    }
    assert_eq!(service.state.metrics().snapshot().leaderboards, 6);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_out_of_bounds_are_400_with_a_json_reason() {
    let service = start(Arc::new(Mutex::new(reference()))).await;
    let cases = [
        (
            "/v1/leaderboards/ember_lair/1?top=101",
            "top must be at most 100",
        ),
        (
            "/v1/leaderboards/ember_lair/1?top=70000",
            "top must be at most 100",
        ),
        (
            "/v1/leaderboards/ember_lair/1?board=guilds",
            "board must be players or groups",
        ),
        ("/v1/leaderboards/Ember_Lair/1", "raid must be 1 to 64"),
        ("/v1/leaderboards/ember%00lair/1", "raid must be 1 to 64"),
        ("/v1/leaderboards/ember_lair/256", "Cannot parse"),
        ("/v1/leaderboards/ember_lair/1?top=ten", "top"),
        ("/v1/leaderboards/ember_lair/1?character=-1", "character"),
    ];
    for (path, reason) in cases {
        let reply = service.get(path).await;
        assert_eq!(reply.status, 400, "{path}: {reply:?}");
        assert!(reply.error().contains(reason), "{path}: {}", reply.error());
    }
    let long = format!("/v1/leaderboards/{}/1", "a".repeat(65));
    assert_eq!(service.get(&long).await.status, 400);
    let reply = service
        .post("/v1/leaderboards/ember_lair/1", json!({}))
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (405, "method not allowed".into())
    );
    assert_eq!(service.get("/v1/leaderboards/ember_lair").await.status, 404);
    let counters = service.state.metrics().snapshot();
    assert_eq!((counters.invalid, counters.leaderboards), (11, 0));
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_gives_503() {
    let service = start(Arc::new(Down)).await;
    let reply = service.get("/v1/leaderboards/ember_lair/1").await;
    assert_eq!(
        (reply.status, reply.error()),
        (503, "store unavailable".into())
    );
    assert_eq!(service.state.metrics().snapshot().store_unavailable, 1);
    service.stop().await;
}

async fn every_engine_serves_the_board_the_reference_serves(db: &mut TestDb) {
    let outcomes = db.store.apply_batch(&intents()).await;
    let mut memory = MemoryStore::default();
    for (intent, outcome) in intents().iter().zip(&outcomes) {
        assert_eq!(&memory.apply(intent), outcome, "{}", db.engine);
    }
    let from_sql = start(Arc::new(db.store.clone())).await;
    let from_memory = start(Arc::new(Mutex::new(memory))).await;
    for path in [
        "/v1/leaderboards/ember_lair/1?character=5&top=100",
        "/v1/leaderboards/ember_lair/1?board=groups&top=3",
        "/v1/leaderboards/ember_lair/1?top=1&character=12",
    ] {
        let (sql, mem) = (from_sql.get(path).await, from_memory.get(path).await);
        assert_eq!(sql.status, 200, "{}: {path}: {sql:?}", db.engine);
        assert_eq!(sql.json(), mem.json(), "{}: {path}", db.engine);
    }
    // The own entry of a character deleted since: gone from the board.
    let delete = Intent {
        id: IntentId(1_000),
        change: Change::DeleteCharacter {
            account: game_core::ids::AccountId(1),
            character: CharacterId(5),
        },
    };
    assert!(matches!(
        db.store.apply_batch(&[delete]).await[0].result,
        Ok(Reply::Characters(_))
    ));
    let body = from_sql
        .get("/v1/leaderboards/ember_lair/1?character=5&top=100")
        .await
        .json();
    assert_eq!((ranks(&body).len(), &body["own"]), (11, &Value::Null));
    from_sql.stop().await;
    from_memory.stop().await;
}
