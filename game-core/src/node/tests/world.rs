//! Channels, transfers, moving, and what a client is sent of the world.

use super::*;

#[test]
fn a_full_map_sends_newcomers_to_another_channel_until_all_are_full() {
    let mut h = Harness::with_config(small_channels());
    let channels: Vec<u16> = (1..=4)
        .map(|i| h.enter(i, &format!("p{i}")).1.channel)
        .collect();
    assert_eq!(channels, vec![0, 0, 1, 1]);
    let (conn, _, _) = h.login(5, "p5");
    h.play(conn, "p5");
    assert!(h
        .take(conn)
        .contains(&ServerMsg::Session(ServerSession::Disconnect {
            reason: DisconnectReason::ServerFull
        })));
}

#[test]
fn switching_channel_moves_the_character_or_says_why_not() {
    let mut h = Harness::with_config(small_channels());
    let (a, za) = h.enter(1, "a");
    h.enter(2, "b");
    let (c, zc) = h.enter(3, "c");
    assert_eq!((za.channel, zc.channel), (0, 1));
    h.send(
        c,
        &[ClientMsg::World(ClientWorld::SwitchChannel { channel: 0 })],
    );
    assert!(h
        .take(c)
        .contains(&ServerMsg::World(ServerWorld::ChannelRefused {
            channel: 0,
            reason: ChannelRefusal::Full
        })));
    h.send(
        c,
        &[ClientMsg::World(ClientWorld::SwitchChannel { channel: 1 })],
    );
    assert!(h
        .take(c)
        .contains(&ServerMsg::World(ServerWorld::ChannelRefused {
            channel: 1,
            reason: ChannelRefusal::AlreadyThere
        })));
    h.send(
        a,
        &[ClientMsg::World(ClientWorld::SwitchChannel { channel: 1 })],
    );
    let moved = zone_entered(&h.take(a));
    assert_eq!(moved.channel, 1);
    assert_eq!(moved.pos, za.pos, "same place, other channel");
    assert_eq!(
        moved.epoch,
        za.epoch + 1,
        "inputs in flight for the old zone are ignored"
    );
}

#[test]
fn transfer_moves_the_character_and_observers_see_it_leave_and_appear() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    let (b, _) = h.enter(2, "b");
    h.advance(Duration::from_millis(60));
    let spawned: Vec<_> = world_updates(&h.take(b))
        .iter()
        .flat_map(|u| u.spawns.clone())
        .collect();
    assert!(spawned.iter().any(|s| s.entity == za.entity), "b sees a");
    h.take(a);
    let player_a = h
        .node
        .sessions()
        .find(|s| s.conn() == a)
        .unwrap()
        .player()
        .unwrap();
    h.node.transfer(h.now, player_a, "forest").unwrap();
    h.drain();
    let to = zone_entered(&h.take(a));
    assert_eq!(to.map, "forest");
    h.advance(Duration::from_millis(60));
    let despawned: Vec<_> = world_updates(&h.take(b))
        .iter()
        .flat_map(|u| u.despawns.clone())
        .collect();
    assert_eq!(despawned, vec![za.entity]);
    assert_eq!(h.node.stats().transfers, 1);
    assert_eq!(
        h.node.transfer(h.now, player_a, "nowhere"),
        Err(TransferError::NoSuchMap)
    );
}

#[test]
fn a_resumed_connection_gets_its_zone_and_every_spawn_before_any_update_with_no_round_trip() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    h.enter(2, "b");
    h.advance(Duration::from_millis(60));
    let player = h.node.session(a).unwrap().player().unwrap();
    let token = h.node.player(player).unwrap().resume_token;
    h.node.handle_disconnect(h.now, a);
    h.drain();
    h.advance(Duration::from_secs(5));
    let a2 = h.connect(10);
    h.answering.insert(a2);
    // No EnterWorld: the server puts a resumed player back by itself.
    h.send(
        a2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    let first = h.take(a2);
    assert!(matches!(
        first[0],
        ServerMsg::Session(ServerSession::Welcome { resumed: true, .. })
    ));
    assert!(matches!(
        first[1],
        ServerMsg::Session(ServerSession::EnteredWorld { .. })
    ));
    let again = zone_entered(&first);
    assert_eq!(
        (again.entity, again.pos, again.zone),
        (za.entity, za.pos, za.zone)
    );
    assert!(again.epoch > za.epoch);
    // Moving at once is allowed.
    let step = crate::protocol::MoveInput {
        seq: 1,
        epoch: again.epoch,
        client_time_us: 0,
        pos: again.pos,
        vel: crate::math::Vec2::ZERO,
    };
    h.send(a2, &[ClientMsg::World(ClientWorld::Move(step))]);
    assert!(!h.closed.contains_key(&a2));
    // Everything in view is spawned afresh before any update refers to it.
    h.advance(Duration::from_millis(500));
    let mut spawned = BTreeSet::new();
    let updates = world_updates(&h.take(a2));
    for u in &updates {
        spawned.extend(u.spawns.iter().map(|s| s.entity));
        for d in &u.despawns {
            spawned.remove(d);
        }
        for m in &u.updates {
            assert!(
                spawned.contains(&m.entity),
                "update for unspawned {:?}",
                m.entity
            );
        }
    }
    assert!(updates.iter().map(|u| u.spawns.len()).sum::<usize>() >= 1);
}

#[test]
fn entering_the_world_again_after_a_resume_is_a_violation() {
    let mut h = Harness::new();
    let (a, _) = h.enter(1, "a");
    let player = h.node.session(a).unwrap().player().unwrap();
    let token = h.node.player(player).unwrap().resume_token;
    h.node.handle_disconnect(h.now, a);
    h.drain();
    let a2 = h.connect(10);
    h.send(
        a2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
            ClientMsg::Session(ClientSession::EnterWorld {
                character: crate::ids::CharacterId(1),
            }),
        ],
    );
    assert_eq!(
        h.closed.get(&a2),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

#[test]
fn a_player_who_leaves_is_removed_from_its_zone() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    h.send(a, &[ClientMsg::Session(ClientSession::Goodbye)]);
    let zone = h.node.world().zone(za.zone).unwrap();
    assert_eq!(zone.position(za.entity), None);
    assert_eq!(zone.player_count(), 0);
}

#[test]
fn moving_before_entering_the_world_is_a_violation() {
    let mut h = Harness::new();
    let (conn, _, _) = h.login(1, "a");
    h.send(
        conn,
        &[ClientMsg::World(ClientWorld::Move(
            crate::protocol::MoveInput {
                seq: 1,
                epoch: 0,
                client_time_us: 0,
                pos: crate::math::Vec2::ZERO,
                vel: crate::math::Vec2::ZERO,
            },
        ))],
    );
    assert_eq!(
        h.closed.get(&conn),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

/// Records the observer calls, so the pairing can be checked.
#[derive(Default)]
struct Calls(Vec<(bool, ZoneId)>);

impl TickObserver for Calls {
    fn zone_tick_started(&mut self, zone: ZoneId) {
        self.0.push((true, zone));
    }
    fn zone_tick_finished(&mut self, zone: ZoneId) {
        self.0.push((false, zone));
    }
}

#[test]
fn the_tick_observer_hears_each_zone_with_players_start_and_finish() {
    let mut h = Harness::new();
    let (conn, _, _) = h.login(1, "ada");
    h.play(conn, "ada");
    let zone = h
        .take(conn)
        .iter()
        .find_map(|m| match m {
            ServerMsg::World(ServerWorld::ZoneEntered(z)) => Some(z.zone),
            _ => None,
        })
        .expect("ZoneEntered");
    let mut calls = Calls::default();
    // Nothing is due yet: no tick, no calls.
    h.node.handle_timeout_observed(h.now, &mut calls);
    assert!(calls.0.is_empty());
    let due = h.node.poll_timeout().unwrap();
    let ticks = h.node.stats().ticks;
    h.now = due;
    h.node.handle_timeout_observed(due, &mut calls);
    h.drain();
    assert_eq!(h.node.stats().ticks, ticks + 1);
    // One zone has a player (the other maps' zones are empty and skipped).
    assert_eq!(calls.0, vec![(true, zone), (false, zone)]);
}

#[test]
fn big_written_buffers_are_not_kept_for_reuse() {
    let mut h = Harness::new();
    let conn = h.connect(1);
    // A write to a client that had fallen behind, given back once written.
    h.node.recycle(Vec::with_capacity(1024 * 1024));
    h.node.recycle(Vec::with_capacity(1024));
    let ping = ClientMsg::Session(ClientSession::Ping {
        seq: 1,
        client_time_us: 0,
    });
    h.node
        .handle_bytes(h.now, conn, &frame_bytes(&[hello(), ping]));
    let mut capacities = Vec::new();
    while let Some(out) = h.node.poll_output() {
        if let Output::Transmit { bytes, .. } = out {
            capacities.push(bytes.capacity());
        }
    }
    assert!(!capacities.is_empty());
    assert!(
        capacities
            .iter()
            .all(|&c| c <= outbox::MAX_REUSABLE_CAPACITY),
        "{capacities:?}"
    );
    assert!(h
        .node
        .outbox
        .reusable_buffers
        .iter()
        .all(|b| b.capacity() <= outbox::MAX_REUSABLE_CAPACITY));
}

#[test]
fn moving_a_player_who_is_not_in_the_world_names_that_cause() {
    let mut h = Harness::new();
    let (_, player, _) = h.login(1, "ada");
    assert_eq!(
        h.node.transfer(h.now, player, "forest"),
        Err(TransferError::NotInWorld)
    );
    assert_eq!(
        h.node
            .teleport(h.now, PlayerId(999), crate::math::Vec2::ZERO),
        Err(TransferError::NoSuchPlayer)
    );
}

#[test]
fn a_connection_admitted_only_to_resume_is_refused_a_new_player_but_takes_back_a_kept_one() {
    let mut h = Harness::new();
    let (a, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, a);
    h.drain();
    // A new character: refused before any welcome, with a typed reason.
    let fresh = ConnId(2);
    h.decoders
        .insert(fresh, FrameDecoder::new(MAX_SERVER_PAYLOAD));
    h.node.handle_connect_resume_only(h.now, fresh);
    h.drain();
    h.send(fresh, &[hello(), login("bob")]);
    assert_eq!(
        h.take(fresh),
        disconnect(DisconnectReason::TooManyConnections)
    );
    assert_eq!(h.node.player_count(), 1, "no player was made for bob");
    // The kept character comes back on such a connection.
    let back = ConnId(3);
    h.decoders
        .insert(back, FrameDecoder::new(MAX_SERVER_PAYLOAD));
    h.node.handle_connect_resume_only(h.now, back);
    h.drain();
    h.send(
        back,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert_eq!(welcome(&h.take(back)).0, player);
}

#[test]
fn a_client_fetches_the_map_it_is_in_chunk_by_chunk_and_can_verify_it() {
    let big = crate::zone::Map::open("plain", 3000, 100, 1);
    let mut config = NodeConfig::default();
    config.world.start_map = "plain".into();
    let mut h = Harness {
        node: Node::with_maps(config, 7, vec![big.clone()]).unwrap(),
        ..Harness::new()
    };
    let (conn, entered) = h.enter(1, "ada");
    assert_eq!(entered.map_checksum, big.checksum());
    let mut next = 0;
    let mut chunks = 0;
    while next < big.height() {
        h.send(
            conn,
            &[ClientMsg::World(ClientWorld::FetchMap { first_row: next })],
        );
        let chunk = h
            .take(conn)
            .into_iter()
            .find_map(|m| match m {
                ServerMsg::World(ServerWorld::MapChunk(c)) => Some(c),
                _ => None,
            })
            .expect("a map chunk");
        assert_eq!(
            (
                chunk.map.as_str(),
                chunk.checksum,
                chunk.width,
                chunk.height
            ),
            ("plain", big.checksum(), 3000, 100)
        );
        assert_eq!(chunk.first_row, next);
        assert!(chunk.rows > 0 && chunk.walkable.len() <= crate::protocol::MAX_MAP_CHUNK_BYTES);
        // Every bit says what the server's own walkability check says.
        for y in chunk.first_row..chunk.first_row + chunk.rows {
            for x in 0..3000 {
                let i = ((y - chunk.first_row) * 3000 + x) as usize;
                let bit = chunk.walkable[i / 8] >> (i % 8) & 1 == 1;
                assert_eq!(bit, big.is_walkable(big.cell_center((x, y))), "({x}, {y})");
            }
        }
        next += chunk.rows;
        chunks += 1;
    }
    assert!(chunks > 1, "a big map takes several chunks");
    // Past the last row: an empty chunk, not an error.
    h.send(
        conn,
        &[ClientMsg::World(ClientWorld::FetchMap { first_row: 5000 })],
    );
    let past = h.take(conn);
    assert!(matches!(
        &past[..],
        [ServerMsg::World(ServerWorld::MapChunk(c))] if c.rows == 0 && c.first_row == 100 && c.walkable.is_empty()
    ));
}

#[test]
fn a_client_is_never_sent_its_own_entity_in_world_updates() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    let (_, zb) = h.enter(2, "b");
    h.advance(Duration::from_millis(500));
    let updates = world_updates(&h.take(a));
    let spawned: Vec<EntityId> = updates
        .iter()
        .flat_map(|u| u.spawns.iter().map(|s| s.entity))
        .collect();
    assert!(spawned.contains(&zb.entity), "b is seen");
    assert!(updates.iter().all(|u| {
        u.spawns.iter().all(|s| s.entity != za.entity)
            && u.updates.iter().all(|m| m.entity != za.entity)
            && !u.despawns.contains(&za.entity)
    }));
}

#[test]
fn health_mana_and_cooldowns_go_through_a_portal_and_a_channel_switch() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    h.advance(Duration::from_millis(60));
    let player = h.node.player_of(a).unwrap();
    let f = h
        .node
        .world
        .zone_mut(za.zone)
        .and_then(|z| z.fighter_mut_of(za.entity))
        .unwrap();
    f.health = 17;
    f.mana = 3;
    f.ready[1] = crate::time::Tick(f.ready[1].0 + 1_000);
    h.node.transfer(h.now, player, "forest").unwrap();
    h.drain();
    let to = zone_entered(&h.take(a));
    let zone = h.node.world().zone(to.zone).unwrap();
    let f = zone.fighter_of(to.entity).unwrap();
    assert_eq!((f.health, f.mana), (17, 3), "no healing by portal");
    assert!(
        f.ready[1].0 >= zone.tick().0 + 990,
        "the cooldown still runs"
    );
}

/// A node with `content` and one slime on the meadow's spawn point (the
/// respawn point too); "a" enters, auto-attacks it, and half a second
/// passes.
pub(super) fn kill_one_slime(content: crate::content::Content) -> (Harness, ConnId) {
    use crate::content::MonsterKindId;
    use crate::protocol::ClientCombat;
    let content = content.with_one_monster_at("meadow", (40, 60), MonsterKindId(0));
    let mut h = Harness::new();
    h.node = Node::with_content(
        h.node.config().clone(),
        7,
        Vec::new(),
        std::sync::Arc::new(content),
    )
    .unwrap();
    let (a, za) = h.enter(1, "a");
    let slime = h
        .node
        .world()
        .zone(za.zone)
        .unwrap()
        .entities()
        .find(|(_, kind, _)| *kind == crate::protocol::EntityKind::Monster)
        .map(|(id, _, _)| id)
        .unwrap();
    h.advance(Duration::from_millis(60));
    h.send(
        a,
        &[ClientMsg::Combat(ClientCombat::Attack { target: slime })],
    );
    h.advance(Duration::from_millis(500));
    (h, a)
}

/// A kill's experience and the level it brings are saved at once (a
/// level-up), and the next login comes back at that level.
#[test]
fn experience_and_levels_from_a_kill_are_saved_and_come_back() {
    use crate::content::Content;
    let mut content = Content::sample();
    // An auto-attack that kills a slime at one blow from anywhere in view,
    // and a slime worth levels 2 and 3 on the spawn point.
    content.skills[0].power = 100_000;
    content.skills[0].range = crate::math::Fixed::from_int(30);
    content.monsters[0].experience = 500;
    let (mut h, a) = kill_one_slime(content);
    let character = h.characters[&a][0].id;
    let saved = h.store.character(character).unwrap();
    assert_eq!(
        (saved.state.experience, saved.state.level),
        (500, 3),
        "saved at the level-up, before any periodic save"
    );
    // Leave and come back: the character enters at level 3, with its
    // experience, and its fighter has level 3's health.
    h.send(a, &[ClientMsg::Session(ClientSession::Goodbye)]);
    let (b, zb) = h.enter(2, "a");
    let entered = h.characters[&b][0].clone();
    assert_eq!(entered.level, 3);
    let zone = h.node.world().zone(zb.zone).unwrap();
    let f = zone.fighter_of(zb.entity).unwrap();
    assert_eq!((f.level, f.experience), (3, 500));
    assert_eq!(f.max_health, zone.content().levels.row(3).health);
}
