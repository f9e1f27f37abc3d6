//! Tokens, the character screen, and entering the world where a character
//! last stood.

use super::*;
use crate::auth::{Claims, SigningKey};
use crate::ids::{AccountId, CharacterId};
use crate::math::Vec2;
use crate::protocol::{CharacterRefusal, TokenRefusal};

fn create(name: &str) -> ClientMsg {
    ClientMsg::Session(ClientSession::CreateCharacter { name: name.into() })
}

fn refused(msgs: &[ServerMsg]) -> Option<CharacterRefusal> {
    msgs.iter().find_map(|m| match m {
        ServerMsg::Session(ServerSession::CharacterRefused { reason }) => Some(*reason),
        _ => None,
    })
}

fn names(h: &Harness, conn: ConnId) -> Vec<String> {
    h.characters[&conn].iter().map(|c| c.name.clone()).collect()
}

#[test]
fn the_character_screen_creates_lists_and_deletes_with_typed_refusals() {
    let mut h = Harness::with_config(NodeConfig {
        max_characters: 2,
        ..NodeConfig::default()
    });
    let (conn, _, _) = h.login(1, "ada");
    h.send(conn, &[create("Ada")]);
    assert_eq!(names(&h, conn), ["Ada"]);
    for (name, reason) in [
        ("ADA", CharacterRefusal::NameTaken),
        ("x", CharacterRefusal::InvalidName),
        ("Ad\u{430}", CharacterRefusal::InvalidName),
        ("Robert'); DROP TABLE", CharacterRefusal::InvalidName),
    ] {
        h.take(conn);
        h.send(conn, &[create(name)]);
        assert_eq!(refused(&h.take(conn)), Some(reason), "{name}");
    }
    // Names are unique across accounts too.
    let (other, _, _) = h.login(2, "bob");
    h.send(other, &[create("ada")]);
    assert_eq!(refused(&h.take(other)), Some(CharacterRefusal::NameTaken));
    h.send(conn, &[create("Bea")]);
    assert_eq!(names(&h, conn), ["Ada", "Bea"]);
    h.take(conn);
    h.send(conn, &[create("Cyd")]);
    assert_eq!(
        refused(&h.take(conn)),
        Some(CharacterRefusal::TooManyCharacters)
    );
    let bea = h.characters[&conn][1].id;
    h.send(
        conn,
        &[ClientMsg::Session(ClientSession::DeleteCharacter {
            character: bea,
        })],
    );
    assert_eq!(names(&h, conn), ["Ada"]);
    // Another account's character, or one that does not exist.
    let ada = h.characters[&conn][0].id;
    for character in [ada, CharacterId(999)] {
        h.send(
            other,
            &[ClientMsg::Session(ClientSession::EnterWorld { character })],
        );
        assert_eq!(
            refused(&h.take(other)),
            Some(CharacterRefusal::NoSuchCharacter)
        );
    }
    h.take(conn);
    h.send(conn, &[ClientMsg::Session(ClientSession::ListCharacters)]);
    assert!(matches!(
        &h.take(conn)[..],
        [ServerMsg::Session(ServerSession::Characters { characters, max: 2 })] if characters.len() == 1
    ));
    assert_eq!(h.node.stats().character_refusals, 8);
}

#[test]
fn a_character_enters_where_it_last_stood_on_its_map_and_channel() {
    let mut h = Harness::new();
    let (conn, _) = h.enter(1, "ada");
    let player = h.node.session(conn).unwrap().player().unwrap();
    h.node.transfer(h.now, player, "forest").unwrap();
    let spot = Vec2::from_ints(40, 30);
    h.node.teleport(h.now, player, spot).unwrap();
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
    let (conn, _, _) = h.login(2, "ada");
    h.play(conn, "ada");
    let msgs = h.take(conn);
    let z = zone_entered(&msgs);
    assert_eq!((z.map.as_str(), z.pos), ("forest", spot));
    assert!(matches!(
        &msgs[0],
        ServerMsg::Session(ServerSession::EnteredWorld { character, .. }) if character.map == "forest"
    ));
}

#[test]
fn a_playing_character_is_saved_periodically_and_on_a_map_change() {
    let mut h = Harness::with_config(NodeConfig {
        save_interval_ms: 5_000,
        ..NodeConfig::default()
    });
    let (conn, _) = h.enter(1, "ada");
    let player = h.node.session(conn).unwrap().player().unwrap();
    let character = h.node.player(player).unwrap().character.unwrap();
    let saves = |h: &Harness| {
        h.events
            .iter()
            .filter(|e| matches!(e, NodeEvent::CharacterSaved { .. }))
            .count()
    };
    h.advance(Duration::from_millis(4_900));
    assert_eq!(saves(&h), 0);
    h.advance(Duration::from_millis(5_200));
    assert_eq!(saves(&h), 2, "every 5 s");
    h.node.transfer(h.now, player, "forest").unwrap();
    h.drain();
    assert_eq!(saves(&h), 3, "at once on a map change");
    assert_eq!(
        h.store.character(character).unwrap().state.place.map,
        "forest"
    );
}

#[test]
fn a_character_left_unsaved_is_played_again_from_the_node_not_the_store() {
    let mut h = Harness::new();
    let (conn, _) = h.enter(1, "ada");
    let player = h.node.session(conn).unwrap().player().unwrap();
    let spot = Vec2::from_ints(70, 70);
    h.node.teleport(h.now, player, spot).unwrap();
    // The store stops answering: the save on leaving waits.
    h.hold_outcomes = true;
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
    let held = std::mem::take(&mut h.held);
    assert_eq!(held.len(), 1);
    h.hold_outcomes = false;
    let intents = h.node.stats().store_intents;
    let (conn, _, _) = h.login(2, "ada");
    h.play(conn, "ada");
    assert_eq!(zone_entered(&h.take(conn)).pos, spot);
    // Opened the account, loaded the social record and the inventory (the
    // node had let go of it); no character load.
    assert_eq!(h.node.stats().store_intents, intents + 3);
    for outcome in held {
        h.node.handle_store_outcome(h.now, outcome);
    }
}

#[test]
fn a_store_that_never_answers_refuses_the_login_after_the_timeout() {
    let mut h = Harness::with_config(NodeConfig {
        store_timeout_ms: 2_000,
        ..NodeConfig::default()
    });
    h.hold_outcomes = true;
    let conn = h.connect(1);
    h.send(conn, &[hello(), login("ada")]);
    assert!(h.take(conn).is_empty(), "nothing before the store answers");
    h.advance(Duration::from_millis(2_100));
    assert_eq!(
        h.take(conn),
        disconnect(DisconnectReason::LoginRefused(
            LoginRefusal::StoreUnavailable
        ))
    );
    assert_eq!(h.node.stats().store_timeouts, 1);
    // Its late answer changes nothing.
    for outcome in std::mem::take(&mut h.held) {
        h.node.handle_store_outcome(h.now, outcome);
    }
    assert_eq!(h.node.stats().store_unexpected, 1);
    assert_eq!(h.node.player_count(), 0);
}

#[test]
fn development_logins_can_be_turned_off() {
    let mut h = Harness::with_config(NodeConfig {
        dev_login: false,
        ..NodeConfig::default()
    });
    let conn = h.connect(1);
    h.send(conn, &[hello(), login("ada")]);
    assert_eq!(
        h.take(conn),
        disconnect(DisconnectReason::LoginRefused(
            LoginRefusal::DevLoginDisabled
        ))
    );
}

const UNIX_MS_AT_ZERO: u64 = 1_800_000_000_000;

fn token_login(token: String) -> ClientMsg {
    ClientMsg::Session(ClientSession::Login {
        credentials: Credentials::Token { token },
    })
}

#[test]
fn a_token_logs_in_once_and_forged_expired_or_replayed_ones_are_refused() {
    let key = SigningKey::from_seed(&[3; 32]);
    let mut h = Harness::new();
    let ada = h.store.register("ada", "$argon2id$unused").unwrap();
    let now_s = UNIX_MS_AT_ZERO / 1000;
    let claims = |expires_at, id| Claims {
        account: ada,
        name: "ada".into(),
        issued_at: now_s,
        expires_at,
        token_id: [id; 16],
    };
    let valid = key.issue(&claims(now_s + 300, 1));
    // No key given: this server takes no tokens.
    let conn = h.connect(1);
    h.send(conn, &[hello(), token_login(valid.clone())]);
    let bad = |r| disconnect(DisconnectReason::LoginRefused(LoginRefusal::Token(r)));
    assert_eq!(h.take(conn), bad(TokenRefusal::BadSignature));
    h.node
        .accept_tokens(key.verifying_key(), UNIX_MS_AT_ZERO, Instant::ZERO);
    let conn = h.connect(2);
    h.send(conn, &[hello(), token_login(valid.clone())]);
    let (player, _) = welcome(&h.take(conn));
    assert_eq!(h.node.player(player).unwrap().account, ada);
    let cases = [
        (valid, TokenRefusal::Replayed),
        (key.issue(&claims(now_s, 2)), TokenRefusal::Expired),
        (
            SigningKey::from_seed(&[4; 32]).issue(&claims(now_s + 300, 3)),
            TokenRefusal::BadSignature,
        ),
        ("v4.public.bm90IGEgdG9rZW4".into(), TokenRefusal::Malformed),
        // Issued before this node took tokens: it may have been used on the
        // server's previous run, which this node does not remember.
        (
            key.issue(&Claims {
                issued_at: now_s - 1,
                ..claims(now_s + 300, 6)
            }),
            TokenRefusal::Expired,
        ),
    ];
    for (i, (token, refusal)) in cases.into_iter().enumerate() {
        let conn = h.connect(10 + i as u64);
        h.send(conn, &[hello(), token_login(token)]);
        assert_eq!(h.take(conn), bad(refusal), "{refusal:?}");
    }
    // A token for an account the store does not know.
    let ghost = key.issue(&Claims {
        account: AccountId(77),
        ..claims(now_s + 300, 5)
    });
    let conn = h.connect(20);
    h.send(conn, &[hello(), token_login(ghost)]);
    assert_eq!(
        h.take(conn),
        disconnect(DisconnectReason::LoginRefused(
            LoginRefusal::StoreUnavailable
        ))
    );
    let refusals = &h.node.stats().login_refusals;
    assert_eq!(refusals["token_bad_signature"], 2);
    assert_eq!(refusals["token_replayed"], 1);
    assert_eq!(refusals["token_expired"], 2);
    assert_eq!(refusals["token_malformed"], 1);
    assert_eq!(refusals["store_unavailable"], 1);
}

#[test]
fn answers_that_come_later_reach_the_client_at_once() {
    // The adapter's store answers on its own schedule, not during the drain
    // of the request: every answer must still be flushed to its connection.
    let mut h = Harness::new();
    h.hold_outcomes = true;
    let conn = h.connect(1);
    h.send(conn, &[hello(), login("ada")]);
    let release = |h: &mut Harness| {
        for outcome in std::mem::take(&mut h.held) {
            h.node.handle_store_outcome(h.now, outcome);
        }
        h.drain();
    };
    release(&mut h);
    assert!(matches!(
        &h.take(conn)[..],
        [
            ServerMsg::Session(ServerSession::Welcome { .. }),
            ServerMsg::Session(ServerSession::Characters { .. })
        ]
    ));
    h.send(conn, &[create("Ada")]);
    release(&mut h);
    assert_eq!(names(&h, conn), ["Ada"]);
    let character = h.characters[&conn][0].id;
    h.take(conn);
    h.send(
        conn,
        &[ClientMsg::Session(ClientSession::EnterWorld { character })],
    );
    release(&mut h);
    zone_entered(&h.take(conn));
}
