//! The social changes (friendships, blocks, guilds) against every engine,
//! chosen and skipped as in `store_engines.rs` (see `common`). `MemoryStore`
//! is the reference: every batch must be answered as it answers it, and
//! every guild end as it holds it.

#[macro_use]
mod common;

use common::*;
use game_core as gc;
use net_adapter::store::{Engine, MAX_KEY_BYTES};

use gc::ids::{CharacterId, GuildId, IntentId};
use gc::persist::{Change, GuildState, Intent, Reply, SocialRecord, StoreError};
use gc::protocol::{ChatChannel, ChatLine, Contact, GuildRank};

store_tests!(
    a_new_character_loads_an_empty_record,
    friendships_are_set_idempotently_and_seen_from_both_sides,
    blocks_go_one_way,
    a_guild_is_founded_once_per_intent_and_look_alikes_are_taken,
    a_guild_save_is_kept_only_if_newer,
    disbanding_frees_the_name,
    deleting_a_character_removes_it_everywhere,
    a_large_guild_is_saved_whole,
    social_strings_no_engine_can_hold_are_refused_alone,
);

// ---------------------------------------------------------------------------
// Helpers.

fn load(character: u64) -> Change {
    Change::LoadSocial {
        character: CharacterId(character),
    }
}

fn friends(a: u64, b: u64, friends: bool) -> Change {
    Change::SetFriends {
        a: CharacterId(a),
        b: CharacterId(b),
        friends,
    }
}

fn block(by: u64, whom: u64, blocked: bool) -> Change {
    Change::SetBlocked {
        by: CharacterId(by),
        whom: CharacterId(whom),
        blocked,
    }
}

fn found(name: &str, founder: u64) -> Change {
    Change::CreateGuild {
        name: name.to_owned(),
        founder: CharacterId(founder),
    }
}

fn line(from: u64, text: &str) -> ChatLine {
    ChatLine {
        channel: ChatChannel::Guild,
        from: CharacterId(from),
        from_name: format!("c{from}"),
        text: text.to_owned(),
    }
}

fn save_guild(guild: u64, version: u64, members: &[(u64, GuildRank)], lines: &[&str]) -> Change {
    Change::SaveGuild {
        guild: GuildId(guild),
        version,
        state: GuildState {
            members: members.iter().map(|&(c, r)| (CharacterId(c), r)).collect(),
            history: lines
                .iter()
                .enumerate()
                .map(|(i, t)| line(i as u64 + 1, t))
                .collect(),
        },
    }
}

/// One development account with characters `c1`, `c2`, … `c{n}` (ids 1..=n).
async fn with_characters(twin: &mut Twin<'_>, n: usize) {
    let mut changes = vec![open_dev("ada")];
    changes.extend((1..=n).map(|i| create(1, &format!("c{i}"), 255)));
    let out = twin.changes(changes).await;
    assert!(matches!(&out[n].result, Ok(Reply::Characters(c)) if c.len() == n));
}

fn social(outcome: &Result<Reply, StoreError>) -> &SocialRecord {
    match outcome {
        Ok(Reply::Social(record)) => record,
        other => panic!("not a social record: {other:?}"),
    }
}

fn ids(contacts: &[Contact]) -> Vec<u64> {
    contacts.iter().map(|c| c.character.0).collect()
}

/// The store holds guilds 1..=n as `MemoryStore` does (or neither holds one).
async fn same_guilds(twin: &Twin<'_>, n: u64) {
    for g in 1..=n {
        assert_eq!(
            twin.store.guild(GuildId(g)).await.unwrap(),
            twin.memory.guild(GuildId(g)),
            "{} holds guild {g} unlike MemoryStore",
            twin.store.engine()
        );
    }
}

// ---------------------------------------------------------------------------
// The suite.

async fn a_new_character_loads_an_empty_record(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let out = twin.changes(vec![load(1), load(2)]).await;
    assert_eq!(out[0].result, Ok(Reply::Social(SocialRecord::default())));
    assert_eq!(out[1].result, Err(StoreError::NoSuchCharacter));
}

async fn friendships_are_set_idempotently_and_seen_from_both_sides(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 4).await;
    let out = twin
        .changes(vec![
            friends(3, 1, true),
            friends(3, 1, true),
            friends(1, 3, true),
            friends(4, 3, true),
            friends(3, 2, true),
            friends(3, 3, true), // oneself: NoSuchCharacter
            friends(3, 9, true), // nobody: NoSuchCharacter
            load(3),
            load(1),
        ])
        .await;
    assert_eq!(out[5].result, Err(StoreError::NoSuchCharacter));
    assert_eq!(out[6].result, Err(StoreError::NoSuchCharacter));
    // Sorted by character id, whichever side set it.
    assert_eq!(ids(&social(&out[7].result).friends), vec![1, 2, 4]);
    assert_eq!(social(&out[8].result).friends[0].name, "c3");
    let out = twin
        .changes(vec![
            friends(1, 3, false),
            friends(3, 1, false),
            friends(2, 1, false), // never friends: Done
            load(3),
            load(1),
        ])
        .await;
    assert_eq!(ids(&social(&out[3].result).friends), vec![2, 4]);
    assert!(social(&out[4].result).friends.is_empty());
}

async fn blocks_go_one_way(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 3).await;
    let out = twin
        .changes(vec![
            block(2, 3, true),
            block(2, 1, true),
            block(2, 1, true),
            block(2, 2, true), // oneself: NoSuchCharacter
            load(2),
            load(1),
            block(2, 3, false),
            block(2, 3, false),
            load(2),
        ])
        .await;
    assert_eq!(out[3].result, Err(StoreError::NoSuchCharacter));
    assert_eq!(ids(&social(&out[4].result).blocked), vec![1, 3]);
    assert!(social(&out[5].result).blocked.is_empty());
    assert_eq!(ids(&social(&out[8].result).blocked), vec![1]);
}

async fn a_guild_is_founded_once_per_intent_and_look_alikes_are_taken(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 3).await;
    let first = twin.intent(found("Night Watch", 1));
    let out = twin.batch(&[first.clone(), first.clone()]).await;
    assert_eq!(out[0].result, Ok(Reply::Guild(GuildId(1))));
    assert_eq!(out[1].result, out[0].result);
    // Again in a later batch (a retry after a lost answer): the same guild.
    let out = twin.batch(&[first]).await;
    assert_eq!(out[0].result, Ok(Reply::Guild(GuildId(1))));
    let out = twin
        .changes(vec![
            found("n1ght  watch", 2), // a look-alike, another intent
            found("Day Watch", 9),    // no such founder
            found("Day Watch", 2),
            load(1),
        ])
        .await;
    assert_eq!(out[0].result, Err(StoreError::NameTaken));
    assert_eq!(out[1].result, Err(StoreError::NoSuchCharacter));
    assert_eq!(out[2].result, Ok(Reply::Guild(GuildId(2))));
    let guilds = &social(&out[3].result).guilds;
    assert_eq!(guilds.len(), 1);
    assert_eq!(
        (guilds[0].name.as_str(), guilds[0].version),
        ("Night Watch", 0)
    );
    assert_eq!(guilds[0].members[0].1, GuildRank::Leader);
    same_guilds(&twin, 3).await;
}

async fn a_guild_save_is_kept_only_if_newer(db: &mut TestDb) {
    use GuildRank::*;
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 4).await;
    twin.changes(vec![found("Night Watch", 2)]).await;
    // Join order is not id order; character 99 does not exist and is dropped.
    let members = [(2, Leader), (4, Member), (99, Member), (1, Officer)];
    let out = twin
        .changes(vec![
            save_guild(1, 2, &members, &["first", "second 'quoted'", "🐉"]),
            save_guild(1, 1, &[(2, Leader)], &["older"]), // older: Done, not kept
            save_guild(1, 2, &[(2, Leader)], &["same"]),  // same version: not kept
            save_guild(7, 5, &[(2, Leader)], &[]),        // no such guild: Done
            load(4),
        ])
        .await;
    assert!(out[..4].iter().all(|o| o.result == Ok(Reply::Done)));
    let guild = &social(&out[4].result).guilds[0];
    let order: Vec<(u64, GuildRank)> = guild
        .members
        .iter()
        .map(|(c, r)| (c.character.0, *r))
        .collect();
    assert_eq!(order, vec![(2, Leader), (4, Member), (1, Officer)]);
    assert_eq!(guild.members[1].0.name, "c4");
    assert_eq!(guild.history.len(), 3);
    assert_eq!(guild.history[2].text, "🐉");
    // Versions compare as unsigned, as a character's do.
    twin.changes(vec![
        save_guild(1, 1 << 63, &[(2, Leader)], &["high"]),
        save_guild(1, 7, &[(2, Leader), (3, Member)], &["low"]),
    ])
    .await;
    same_guilds(&twin, 2).await;
    assert_eq!(
        db.store.guild(GuildId(1)).await.unwrap().unwrap().version,
        1 << 63
    );
    // What was committed is there after a restart.
    let (memory, next) = (twin.memory.clone(), twin.next);
    drop(twin);
    db.reopen().await;
    let mut twin = Twin::new(&db.store);
    twin.memory = memory;
    twin.next = next;
    same_guilds(&twin, 2).await;
    twin.changes(vec![load(1), load(2), load(3)]).await;
}

async fn disbanding_frees_the_name(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 3).await;
    let founding = twin.intent(found("Night Watch", 1));
    twin.batch(std::slice::from_ref(&founding)).await;
    let out = twin
        .changes(vec![
            save_guild(1, 1, &[(1, GuildRank::Leader)], &["bye"]),
            save_guild(1, 2, &[], &[]), // disbanded
            load(1),
            save_guild(1, 3, &[(1, GuildRank::Leader)], &[]), // gone: Done
            found("NIGHT WATCH", 2),
        ])
        .await;
    assert!(social(&out[2].result).guilds.is_empty());
    assert_eq!(out[3].result, Ok(Reply::Done));
    // The name is free again; ids are never handed out twice.
    assert_eq!(out[4].result, Ok(Reply::Guild(GuildId(2))));
    // The first founding again: its name is now another founding's.
    let out = twin.batch(&[founding]).await;
    assert_eq!(out[0].result, Err(StoreError::NameTaken));
    // A guild whose members are all gone is disbanded by its next save.
    let out = twin
        .changes(vec![
            found("Day Watch", 3),
            save_guild(
                3,
                1,
                &[(98, GuildRank::Leader), (99, GuildRank::Member)],
                &[],
            ),
            found("Day Watch", 2),
        ])
        .await;
    assert_eq!(out[0].result, Ok(Reply::Guild(GuildId(3))));
    assert_eq!(out[2].result, Ok(Reply::Guild(GuildId(4))));
    same_guilds(&twin, 4).await;
}

async fn deleting_a_character_removes_it_everywhere(db: &mut TestDb) {
    use GuildRank::*;
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 4).await;
    twin.changes(vec![
        friends(1, 2, true),
        friends(2, 3, true),
        friends(1, 3, true),
        block(2, 3, true),
        block(3, 2, true),
        block(1, 2, true),
        block(1, 4, true),
        found("Night Watch", 2),
        save_guild(1, 1, &[(2, Leader), (1, Member), (3, Officer)], &["from 2"]),
    ])
    .await;
    let delete = twin.intent(Change::DeleteCharacter {
        account: gc::ids::AccountId(1),
        character: CharacterId(2),
    });
    twin.batch(std::slice::from_ref(&delete)).await;
    twin.batch(&[delete]).await; // twice is once
    let out = twin.changes(vec![load(1), load(3), load(2)]).await;
    let one = social(&out[0].result);
    assert_eq!((ids(&one.friends), ids(&one.blocked)), (vec![3], vec![4]));
    assert!(social(&out[1].result).blocked.is_empty());
    assert_eq!(ids(&social(&out[1].result).friends), vec![1]);
    // The guild keeps its version, its other members and its lines.
    let guild = &one.guilds[0];
    assert_eq!((guild.version, guild.members.len()), (1, 2));
    assert_eq!(guild.history[0].from, CharacterId(1));
    assert_eq!(out[2].result, Err(StoreError::NoSuchCharacter));
    // Its last members gone, the guild is disbanded and its name free.
    let out = twin
        .changes(vec![
            Change::DeleteCharacter {
                account: gc::ids::AccountId(1),
                character: CharacterId(1),
            },
            Change::DeleteCharacter {
                account: gc::ids::AccountId(1),
                character: CharacterId(3),
            },
            found("Night Watch", 4),
        ])
        .await;
    assert!(matches!(out[2].result, Ok(Reply::Guild(_))));
    same_guilds(&twin, 2).await;
    twin.same_characters().await;
}

async fn a_large_guild_is_saved_whole(db: &mut TestDb) {
    // More members and lines than one multi-row statement holds.
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 230).await;
    twin.changes(vec![found("Horde", 5)]).await;
    let members: Vec<(u64, GuildRank)> = (1..=230)
        .rev()
        .map(|c| (c, GuildRank::Member))
        .chain([(777, GuildRank::Member)])
        .collect();
    let lines: Vec<String> = (0..205).map(|i| format!("line {i}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    twin.changes(vec![save_guild(1, 1, &members, &lines), load(230)])
        .await;
    same_guilds(&twin, 1).await;
}

async fn social_strings_no_engine_can_hold_are_refused_alone(db: &mut TestDb) {
    let store = &db.store;
    let long = "x".repeat(MAX_KEY_BYTES + 1);
    let intents: Vec<Intent> = [
        open_dev("ada"),
        create(1, "Ada", 2),
        found("nul\0guild", 1),
        found(&long, 1),
        save_guild(1, 1, &[(1, GuildRank::Leader)], &["fine"]),
        found("Night Watch", 1),
        save_guild(1, 1, &[(1, GuildRank::Leader)], &["nul\0line"]),
        save_guild(1, 2, &[(1, GuildRank::Leader)], &["fine"]),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, change)| Intent {
        id: IntentId(i as u64 + 1),
        change,
    })
    .collect();
    let out = store.apply_batch(&intents).await;
    let results: Vec<_> = out.iter().map(|o| o.result.clone()).collect();
    assert_eq!(
        results[2..],
        [
            Err(StoreError::Unavailable),
            Err(StoreError::Unavailable),
            Ok(Reply::Done), // no guild 1 yet
            Ok(Reply::Guild(GuildId(1))),
            Err(StoreError::Unavailable),
            Ok(Reply::Done),
        ]
    );
    let guild = store.guild(GuildId(1)).await.unwrap().unwrap();
    assert_eq!((guild.version, guild.history[0].text.as_str()), (2, "fine"));
    assert_eq!(guild.name, "Night Watch");
}
