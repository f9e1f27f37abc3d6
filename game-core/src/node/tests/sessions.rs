//! Logins, take-overs, resume, limits, kicks and shutdown.

use super::*;

#[test]
fn login_and_enter_world() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    // A new account's character screen is empty.
    assert_eq!(h.characters[&conn], vec![]);
    h.play(conn, "ada");
    let character = h.characters[&conn][0].id;
    assert!(matches!(
        &h.take(conn)[..],
        [
            ServerMsg::Session(ServerSession::EnteredWorld { character: c, experience: 0, .. }),
            ServerMsg::World(ServerWorld::ZoneEntered(_)),
            ServerMsg::Combat(ServerCombat::Skillbook { .. }),
            ServerMsg::Economy(ServerEconomy::Inventory(_)),
            ServerMsg::Economy(ServerEconomy::Catalogue(_)),
            ServerMsg::Economy(ServerEconomy::Pass(_)),
        ] if c.name == "ada-char" && c.level == 1 && c.map == "meadow"
    ));
    assert!(h.node.player(player).unwrap().in_world);
    assert_eq!(
        h.events,
        vec![
            NodeEvent::LoggedIn {
                conn,
                player,
                name: "ada".into()
            },
            NodeEvent::EnteredWorld { player, character }
        ]
    );
}

#[test]
fn pipelined_handshake_in_one_read() {
    let mut h = Harness::new();
    let conn = h.connect(1);
    // A heartbeat may follow the login while the store answers it.
    let ping = ClientMsg::Session(ClientSession::Ping {
        seq: 1,
        client_time_us: 5,
    });
    h.send(conn, &[hello(), login("ada"), ping]);
    let msgs = h.take(conn);
    assert!(matches!(
        &msgs[..],
        [
            ServerMsg::Session(ServerSession::Pong { seq: 1, .. }),
            ServerMsg::Session(ServerSession::Welcome { .. }),
            ServerMsg::Session(ServerSession::Characters { max: 4, .. }),
        ]
    ));
    // Choosing a character before the character screen arrives is not.
    let conn = h.connect(2);
    let enter = ClientMsg::Session(ClientSession::EnterWorld {
        character: crate::ids::CharacterId(1),
    });
    h.send(conn, &[hello(), login("bob"), enter]);
    assert_eq!(
        h.closed.get(&conn),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

#[test]
fn second_login_closes_the_first_and_keeps_one_player() {
    let mut h = Harness::new();
    let (first, player, _) = h.login(1, "ada");
    let (second, player2, _) = h.login(2, "ada");
    assert_eq!(
        player, player2,
        "the account's player moves, no second player"
    );
    assert_eq!(
        h.take(first),
        disconnect(DisconnectReason::LoggedInElsewhere)
    );
    assert_eq!(
        h.closed.get(&first),
        Some(&DisconnectReason::LoggedInElsewhere)
    );
    assert!(!h.closed.contains_key(&second));
    assert_eq!(h.node.player_count(), 1);
    assert_eq!(h.node.session_count(), 1);
    assert_eq!(h.node.player(player).unwrap().conn, Some(second));
    // The first connection's late bytes reach nobody.
    h.send(first, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.node.player_count(), 1);
    assert_eq!(h.node.stats().input_after_close, 1);
}

#[test]
fn dropped_connection_keeps_the_player_and_resume_gets_it_back() {
    let mut h = Harness::new();
    let (conn, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, conn);
    h.drain();
    assert_eq!(h.closed.get(&conn), Some(&DisconnectReason::ConnectionLost));
    assert_eq!(
        h.take(conn),
        vec![],
        "nothing is written to a dead transport"
    );
    let kept = h.node.player(player).unwrap();
    assert_eq!(kept.conn, None);
    assert_eq!(
        kept.grace_until,
        Some(Instant::ZERO + Duration::from_secs(30))
    );

    h.advance(Duration::from_secs(29));
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    let msgs = h.take(conn2);
    assert!(resumed_flag(&msgs));
    let (same, new_token) = welcome(&msgs);
    assert_eq!(same, player);
    assert_ne!(new_token, token, "the token rotates on every resume");
    assert_eq!(h.node.player(player).unwrap().conn, Some(conn2));
    // The grace timer is gone: the player stays past the old deadline.
    h.answering.insert(conn2);
    h.advance(Duration::from_secs(60));
    assert!(h.node.player(player).is_some());
}

#[test]
fn resume_after_the_grace_period_is_rejected() {
    let mut h = Harness::new();
    let (conn, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, conn);
    h.drain();
    h.advance(Duration::from_secs(30));
    assert!(h.node.player(player).is_none());
    assert!(h.events.contains(&NodeEvent::PlayerLeft {
        player,
        reason: DisconnectReason::ConnectionLost
    }));
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert_eq!(h.take(conn2), disconnect(DisconnectReason::ResumeRejected));
    // A fresh login still works, as a new player.
    let (_, again, _) = h.login(3, "ada");
    assert_ne!(again, player);
}

#[test]
fn resume_with_a_wrong_token_is_rejected_and_the_player_kept() {
    let mut h = Harness::new();
    let (conn, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, conn);
    h.drain();
    let mut forged = token;
    forged.0[0] ^= 1;
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume {
                player,
                token: forged,
            }),
        ],
    );
    assert_eq!(h.take(conn2), disconnect(DisconnectReason::ResumeRejected));
    assert!(h.node.player(player).is_some());
    let conn3 = h.connect(3);
    h.send(
        conn3,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert!(resumed_flag(&h.take(conn3)));
}

#[test]
fn resume_over_a_half_open_connection_closes_the_old_one() {
    let mut h = Harness::new();
    let (old, player, token) = h.login(1, "ada");
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert!(resumed_flag(&h.take(conn2)));
    assert_eq!(
        h.closed.get(&old),
        Some(&DisconnectReason::LoggedInElsewhere)
    );
    assert_eq!(h.node.session_count(), 1);
}

#[test]
fn idle_timeout_detaches_and_the_grace_period_then_removes() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.advance(Duration::from_secs(15));
    assert_eq!(h.closed.get(&conn), Some(&DisconnectReason::IdleTimeout));
    assert_eq!(h.node.player(player).unwrap().conn, None);
    h.advance(Duration::from_secs(30));
    assert!(h.node.player(player).is_none());
    assert_eq!(h.node.poll_timeout(), None, "no timers left behind");
}

#[test]
fn heartbeats_keep_an_answering_client_connected() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.answering.insert(conn);
    h.advance(Duration::from_secs(600));
    assert!(!h.closed.contains_key(&conn));
    assert_eq!(h.node.player(player).unwrap().conn, Some(conn));
    let rtt = h.node.session(conn).unwrap().pinger().rtt().latest();
    assert_eq!(
        rtt,
        Some(Duration::ZERO),
        "answered within the same instant"
    );
}

#[test]
fn goodbye_removes_the_player_at_once() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.take(conn), disconnect(DisconnectReason::ClientQuit));
    assert!(h.node.player(player).is_none());
    assert_eq!(h.node.stats().disconnects.get("client_quit"), Some(&1));
}

#[test]
fn garbage_closes_only_that_connection() {
    let mut h = Harness::new();
    let (good, player, _) = h.login(1, "ada");
    let bad = h.connect(2);
    h.node
        .handle_bytes(h.now, bad, &[5, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0xff]);
    h.drain();
    assert_eq!(
        h.closed.get(&bad),
        Some(&DisconnectReason::ProtocolViolation(Violation::Malformed))
    );
    assert!(!h.closed.contains_key(&good));
    assert_eq!(h.node.player(player).unwrap().conn, Some(good));
}

#[test]
fn cheating_player_is_removed_not_kept_for_resume() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.send(conn, &[login("ada")]);
    assert_eq!(
        h.closed.get(&conn),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
    assert!(h.node.player(player).is_none());
}

#[test]
fn invalid_names_are_refused() {
    let mut h = Harness::new();
    for (i, name) in ["", " ada", "a\u{7}b", &"x".repeat(33)].iter().enumerate() {
        let conn = h.connect(i as u64 + 1);
        h.send(conn, &[hello(), login(name)]);
        assert_eq!(
            h.take(conn),
            disconnect(DisconnectReason::LoginRefused(LoginRefusal::InvalidName)),
            "name {name:?}"
        );
    }
    assert_eq!(h.node.player_count(), 0);
}

#[test]
fn over_the_session_cap_the_client_is_told_server_full() {
    let mut h = Harness::with_config(NodeConfig {
        max_sessions: 1,
        ..NodeConfig::default()
    });
    h.login(1, "ada");
    let conn = h.connect(2);
    assert_eq!(h.take(conn), disconnect(DisconnectReason::ServerFull));
    assert_eq!(h.closed.get(&conn), Some(&DisconnectReason::ServerFull));
}

#[test]
fn over_the_player_cap_login_is_refused() {
    let mut h = Harness::with_config(NodeConfig {
        max_players: 1,
        ..NodeConfig::default()
    });
    h.login(1, "ada");
    let conn = h.connect(2);
    h.send(conn, &[hello(), login("bob")]);
    assert_eq!(h.take(conn), disconnect(DisconnectReason::ServerFull));
}

#[test]
fn kick_tells_the_player_why() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    assert!(h.node.kick(h.now, player, "spamming".into()));
    h.drain();
    assert_eq!(
        h.take(conn),
        disconnect(DisconnectReason::Kicked {
            message: "spamming".into()
        })
    );
    assert!(h.node.player(player).is_none());
    assert!(!h.node.kick(h.now, player, "again".into()));
}

#[test]
fn notice_reaches_everyone_connected() {
    let mut h = Harness::new();
    let (a, _, _) = h.login(1, "ada");
    let (b, _, _) = h.login(2, "bob");
    h.node
        .notice(h.now, None, NoticeLevel::Warning, "restart in 5 minutes");
    h.drain();
    for conn in [a, b] {
        assert_eq!(
            h.take(conn),
            vec![ServerMsg::Session(ServerSession::Notice {
                level: NoticeLevel::Warning,
                text: "restart in 5 minutes".into()
            })]
        );
    }
}

#[test]
fn shutdown_tells_everyone_and_refuses_newcomers() {
    let mut h = Harness::new();
    let (a, _, _) = h.login(1, "ada");
    let (b, player_b, _) = h.login(2, "bob");
    h.node.handle_disconnect(h.now, b);
    h.drain();
    assert!(h.node.player(player_b).is_some());
    h.node.shutdown(h.now);
    h.drain();
    assert_eq!(h.take(a), disconnect(DisconnectReason::ServerShutdown));
    assert_eq!(h.node.player_count(), 0);
    assert_eq!(h.node.session_count(), 0);
    let late = h.connect(3);
    assert_eq!(h.take(late), disconnect(DisconnectReason::ServerShutdown));
    assert_eq!(h.node.poll_timeout(), None);
}

#[test]
fn spurious_timeouts_are_harmless() {
    let mut h = Harness::new();
    let (conn, _, _) = h.login(1, "ada");
    for _ in 0..10 {
        h.node.handle_timeout(h.now);
    }
    h.drain();
    assert!(h.take(conn).is_empty());
    assert!(!h.closed.contains_key(&conn));
}

#[test]
fn same_seed_same_tokens() {
    let run = || {
        let mut h = Harness::new();
        (0..5)
            .map(|i| h.login(i, &format!("p{i}")).2)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
