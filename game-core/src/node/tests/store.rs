//! Saves, intents and their outcomes, and the bus.

use super::*;

/// The stored character named `name`.
fn stored<'a>(h: &'a Harness, name: &str) -> &'a crate::persist::CharacterRecord {
    h.store
        .characters()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} not stored"))
}

#[test]
fn a_leaving_character_s_place_is_saved_through_the_store() {
    let mut h = Harness::new();
    enter_and_leave(&mut h, 1, "ada");
    let ada = stored(&h, "ada-char");
    assert_eq!((ada.version, ada.state.place.map.as_str()), (1, "meadow"));
    assert_eq!(h.node.pending_intents(), 0, "the outcome came back");
    // Open the account, create the character, load it, its social record
    // and its inventory, save it.
    assert_eq!(h.node.stats().store_intents, 6);
    assert_eq!(h.node.stats().store_acknowledged, 6);
    // The event says what was saved: the stored place.
    assert!(h.events.contains(&NodeEvent::CharacterSaved {
        character: ada.id,
        version: 1,
        place: ada.state.place.clone(),
    }));
    // Never entered the world: nothing to save.
    let (conn, _, _) = h.login(2, "bob");
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.node.stats().store_intents, 7);
}

#[test]
fn intents_wait_for_their_outcome_within_a_bound_and_a_repeated_outcome_is_ignored() {
    let mut h = Harness::with_config(NodeConfig {
        max_pending_intents: 2,
        store_busy_intents: 1,
        max_players: 2,
        ..NodeConfig::default()
    });
    let (ada, _) = h.enter(1, "ada");
    let (bob, _) = h.enter(2, "bob");
    h.hold_outcomes = true;
    h.send(ada, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.node.pending_intents(), 1, "still waiting for the store");
    // The store is behind: a new login is shed, with a reason.
    let conn = h.connect(3);
    h.send(conn, &[hello(), login("cy")]);
    assert_eq!(
        h.take(conn),
        disconnect(DisconnectReason::LoginRefused(LoginRefusal::ServerBusy))
    );
    assert_eq!(h.node.stats().login_refusals["server_busy"], 1);
    let held = std::mem::take(&mut h.held);
    assert_eq!(held.len(), 1);
    let acknowledged = h.node.stats().store_acknowledged;
    h.node.handle_store_outcome(h.now, held[0].clone());
    assert_eq!(h.node.pending_intents(), 0);
    assert_eq!(h.node.stats().store_acknowledged, acknowledged + 1);
    h.node.handle_store_outcome(h.now, held[0].clone());
    assert_eq!(h.node.stats().store_unexpected, 1);
    assert_eq!(
        h.node.stats().store_acknowledged,
        acknowledged + 1,
        "not counted twice"
    );
    h.send(bob, &[ClientMsg::Session(ClientSession::Goodbye)]);
}

#[test]
fn a_failed_save_is_retried_until_the_store_acknowledges_it() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    h.hold_outcomes = true;
    h.send(ada, &[ClientMsg::Session(ClientSession::Goodbye)]);
    let id = h.held.pop().unwrap().id;
    h.node.handle_store_outcome(
        h.now,
        Outcome {
            id,
            result: Err(crate::persist::StoreError::Unavailable),
        },
    );
    assert_eq!(h.node.pending_intents(), 0);
    assert_eq!(h.node.stats().store_failed, 1);
    // Half a second later it goes again (the held outcome had been applied:
    // the store already has it, and keeps it once).
    h.advance(Duration::from_millis(600));
    assert_eq!(h.node.pending_intents(), 1, "retried");
    let retry = h.held.pop().unwrap();
    h.node.handle_store_outcome(h.now, retry);
    assert_eq!(h.node.pending_intents(), 0);
    assert_eq!(
        h.node.character_state(stored(&h, "ada-char").id),
        None,
        "done"
    );
}

#[test]
fn presence_is_published_when_an_account_comes_online_and_leaves() {
    let mut h = Harness::new();
    enter_and_leave(&mut h, 1, "ada");
    assert_eq!(
        h.published,
        vec![
            BusMessage::Presence {
                account: crate::ids::AccountId(1),
                online: true
            },
            BusMessage::Presence {
                account: crate::ids::AccountId(1),
                online: false
            },
        ]
    );
    assert_eq!(h.subscribed, vec![Topic::Announcements]);
}

#[test]
fn an_announcement_goes_out_on_the_bus_and_reaches_every_player_when_it_comes_back() {
    let mut h = Harness::new();
    let (a, _, _) = h.login(1, "ada");
    let (b, _, _) = h.login(2, "bob");
    h.node
        .announce(NoticeLevel::Warning, "restart in 5 minutes");
    assert!(
        h.take(a).is_empty(),
        "nothing is shown before the bus hands it back"
    );
    h.drain();
    let notice = ServerMsg::Session(ServerSession::Notice {
        level: NoticeLevel::Warning,
        text: "restart in 5 minutes".into(),
    });
    assert_eq!(h.take(a), vec![notice.clone()]);
    assert_eq!(h.take(b), vec![notice]);
    assert_eq!(h.node.stats().bus_received, 1);
}

#[test]
fn a_pending_table_smaller_than_the_player_cap_is_refused_at_start() {
    let config = NodeConfig {
        max_players: 100,
        max_pending_intents: 99,
        ..NodeConfig::default()
    };
    let err = Node::new(config, 1).unwrap_err();
    assert!(err.contains("max_pending_intents"), "{err}");
}
