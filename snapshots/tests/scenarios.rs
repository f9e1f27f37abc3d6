//! Canonical scenario traces: what each of 8 bots hears in a few small fixed
//! scenarios (fixed seed, a few seconds of virtual time, the real node and
//! client machines in `sim::lab`). Any change in replication, interest,
//! movement validation or resume shows up here as a readable diff.
//!
//! A trace starts with the cast (each bot's entity at the end) and then has one
//! line per message per bot, except that `WorldUpdate`s are summarised so that
//! a few seconds of 8 bots stay reviewable. An update is shown when it spawns,
//! despawns or corrects something; on every 20th tick (once a second: a sample
//! of who moves how, deltas in 1/32 m); and at every tick in which some bot was
//! corrected (what everyone heard at that moment). Other updates and all
//! heartbeats are left out. A connection the client itself lost shows as
//! `[client] Disconnected(..)`.
//!
//! Besides the snapshot, each test asserts the facts the scenario is about,
//! from the decoded messages and the machines' state, so it fails for the
//! right reason.

use game_core::client::ClientEvent;
use game_core::content::{Content, MonsterKindId, SkillId, SpawnGroup};
use game_core::ids::EntityId;
use game_core::math::{Fixed, Vec2};
use game_core::node::NodeConfig;
use game_core::protocol::{
    CombatEvent, EntityKind, FrameDecoder, ServerCombat, ServerMsg, ServerSession, ServerWorld,
    SkillRefusal, WorldUpdate, MAX_SERVER_PAYLOAD,
};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use rand_core::RngCore;
use sim::lab::{Lab, INSTANT};
use sim::policy::{Atlas, Wander};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::Arc;

/// The master seed of every scenario: the node's resume tokens, the links and
/// the bots' choices all derive from it.
const SEED: u64 = 4;
/// The bots act once per frame, in step with the 20 Hz tick.
const FRAME: Duration = Duration::from_millis(50);
/// A summarised trace shows every update of this many ticks.
const SAMPLE_EVERY: u64 = 20;
const NAMES: [&str; 8] = ["ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal"];

fn secs_f(s: f64) -> Instant {
    Instant::from_micros((s * 1e6) as u64)
}

/// Every message the node sent, decoded, in order: (when, peer, message).
fn messages(lab: &Lab) -> Vec<(Instant, usize, ServerMsg)> {
    let mut decoders: Vec<FrameDecoder> = lab
        .peers
        .iter()
        .map(|_| FrameDecoder::new(MAX_SERVER_PAYLOAD))
        .collect();
    let mut out = Vec::new();
    for (at, peer, bytes) in &lab.frames {
        let mut input = &bytes[..];
        while let Some(payload) = decoders[*peer].decode(&mut input).unwrap() {
            out.push((*at, *peer, ServerMsg::decode(payload).unwrap()));
        }
    }
    out
}

/// The world updates peer `peer` received, with when.
fn updates_of(msgs: &[(Instant, usize, ServerMsg)], peer: usize) -> Vec<(Instant, &WorldUpdate)> {
    msgs.iter()
        .filter_map(|(at, p, msg)| match msg {
            ServerMsg::World(ServerWorld::WorldUpdate(u)) if *p == peer => Some((*at, u)),
            _ => None,
        })
        .collect()
}

/// Renders what each peer heard (see the module comment for what is left out).
fn trace(lab: &Lab, names: &[&str]) -> String {
    let msgs = messages(lab);
    let corrected_ticks: BTreeSet<u64> = msgs
        .iter()
        .filter_map(|(_, _, msg)| match msg {
            ServerMsg::World(ServerWorld::WorldUpdate(u)) if u.correction.is_some() => {
                Some(u.tick.0)
            }
            _ => None,
        })
        .collect();
    // (when, frames before client events at the same instant, line)
    let mut lines: Vec<(Instant, u8, String)> = Vec::new();
    for (at, peer, msg) in msgs {
        let line = match msg {
            ServerMsg::World(ServerWorld::ZoneEntered(z)) => format!(
                "zone {} ch{} as {:?} at {:?}",
                z.map, z.channel, z.entity, z.pos
            ),
            ServerMsg::World(ServerWorld::WorldUpdate(u)) => {
                let shown = !u.spawns.is_empty()
                    || !u.despawns.is_empty()
                    || u.correction.is_some()
                    || corrected_ticks.contains(&u.tick.0)
                    || (u.tick.0 % SAMPLE_EVERY == 0 && !u.updates.is_empty());
                if !shown {
                    continue;
                }
                let mut s = format!("tick {} ack {}", u.tick.0, u.ack_seq);
                for sp in &u.spawns {
                    let _ = write!(
                        s,
                        " +{:?}({:?} {},{})",
                        sp.entity, sp.kind, sp.pos.x, sp.pos.y
                    );
                }
                for d in &u.despawns {
                    let _ = write!(s, " -{d:?}");
                }
                for up in &u.updates {
                    let _ = write!(s, " {:?}({:+},{:+})", up.entity, up.dx, up.dy);
                }
                if let Some(c) = u.correction {
                    let _ = write!(s, " CORRECTION seq {} to {:?}", c.seq, c.pos);
                }
                s
            }
            ServerMsg::Session(ServerSession::Ping { .. })
            | ServerMsg::Session(ServerSession::Pong { .. }) => continue,
            ServerMsg::Economy(e) => snapshots::economy_line(&e),
            other => format!("{other:?}"),
        };
        lines.push((at, 0, format!("{at:?} {}: {line}", names[peer])));
    }
    for (i, p) in lab.peers.iter().enumerate() {
        for (at, e) in &p.events {
            if let ClientEvent::Disconnected { reason } = e {
                let line = format!("{at:?} {}: [client] Disconnected({reason:?})", names[i]);
                lines.push((*at, 1, line));
            }
        }
    }
    lines.sort_by_key(|(at, order, _)| (*at, *order));
    let mut out = String::from("cast:");
    for (i, name) in names.iter().enumerate() {
        match lab.entity_of(i) {
            Some(e) => {
                let _ = write!(out, " {name}={e:?}");
            }
            None => {
                let _ = write!(out, " {name}=-");
            }
        }
    }
    out.push('\n');
    for (_, _, line) in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn small_view() -> NodeConfig {
    let mut config = NodeConfig::default();
    config.world.zone.view_radius_m = 10;
    config.world.zone.view_margin_m = 2;
    config
}

fn corrections(lab: &Lab, i: usize) -> usize {
    lab.peers[i]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, ClientEvent::Corrected { .. }))
        .count()
}

/// Honest bots strolling about: `sim::policy::Wander` (seeded per bot, the
/// walk `mmo-bots` and the simulator use), capped at `max` so they stay near
/// each other for the few seconds of a scenario.
struct Strollers {
    atlas: Atlas,
    bots: Vec<(usize, Wander)>,
    max: Fixed,
}

impl Strollers {
    fn new(bots: &[usize], max: Fixed) -> Self {
        Strollers {
            atlas: Atlas::samples(),
            bots: bots
                .iter()
                .map(|&i| (i, Wander::new(SEED, i as u64)))
                .collect(),
            max,
        }
    }

    /// One frame: every stroller that is in the world takes a step.
    fn step(&mut self, lab: &mut Lab) {
        let now = lab.now;
        for (i, wander) in &mut self.bots {
            let client = &mut lab.peers[*i].client;
            let Some(avatar) = client.avatar() else {
                continue;
            };
            let map = self.atlas.get(&avatar.map).map(|m| m.as_ref());
            let v = wander.velocity(now, avatar.position(), map, self.max, FRAME);
            client.move_with(now, v);
        }
    }
}

/// Two groups of four walk toward each other along the x axis, through each
/// other's view and out the far side; a bot's speed (4.5-5.5 m/s) and row
/// (2 m apart, up to 1 m of jitter) come from its seeded stream. Every bot sees
/// every bot of the other group enter (at 10 m) and leave (beyond 12 m), and
/// never loses sight of its own group. (The west group also sees a wandering
/// NPC, entity#2, until they walk away from it.)
#[test]
fn two_groups_of_four_walk_through_each_others_view() {
    let mut lab = Lab::new(small_view(), SEED);
    lab.record_frames = true;
    let mut vels = Vec::new();
    let ids: Vec<usize> = NAMES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut rng = rng::stream(SEED, StreamKind::Bot, k as u64);
            let west = k < 4;
            let row = (k % 4) as i32;
            let jitter = (rng.next_u32() % 256) as i32;
            let y = 114 * 256 + row * 512 + if west { 0 } else { 256 } + jitter;
            let x = if west { 70 * 256 } else { 92 * 256 };
            let speed = 1152 + (rng.next_u32() % 257) as i32;
            let vx = if west { speed } else { -speed };
            vels.push(Vec2::new(Fixed::from_raw(vx), Fixed::ZERO));
            lab.join_at(
                name,
                INSTANT,
                Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y)),
            )
        })
        .collect();
    let mut frame = 0u32;
    lab.run(secs_f(6.0), FRAME, |lab| {
        frame += 1;
        // Walk from 0.5 s to 5.0 s, then stand.
        if (10..=100).contains(&frame) {
            let now = lab.now;
            for (&i, &v) in ids.iter().zip(&vels) {
                lab.peers[i].client.move_with(now, v);
            }
        }
    });

    let msgs = messages(&lab);
    let entities: Vec<EntityId> = ids.iter().map(|&i| lab.entity_of(i).unwrap()).collect();
    for &i in &ids {
        assert_eq!(corrections(&lab, i), 0, "{} was corrected", NAMES[i]);
        let updates = updates_of(&msgs, i);
        for &j in &ids {
            if i == j {
                continue;
            }
            let e = entities[j];
            let entered: Vec<Instant> = updates
                .iter()
                .filter(|(_, u)| u.spawns.iter().any(|s| s.entity == e))
                .map(|(at, _)| *at)
                .collect();
            let left: Vec<Instant> = updates
                .iter()
                .filter(|(_, u)| u.despawns.contains(&e))
                .map(|(at, _)| *at)
                .collect();
            if (i < 4) == (j < 4) {
                // Same group: in view from the start, never lost.
                assert_eq!(entered.len(), 1, "{} sees {}", NAMES[i], NAMES[j]);
                assert!(left.is_empty(), "{} lost {}", NAMES[i], NAMES[j]);
            } else {
                // Other group: out of view, in, then out again, once each.
                assert_eq!(entered.len(), 1, "{} saw {} enter", NAMES[i], NAMES[j]);
                assert_eq!(left.len(), 1, "{} saw {} leave", NAMES[i], NAMES[j]);
                assert!(entered[0] > secs_f(0.5) && left[0] > entered[0]);
            }
        }
    }
    // They ended up on the far sides.
    for &i in &ids {
        let x = lab.server_position(i).unwrap().x;
        if i < 4 {
            assert!(x > Fixed::from_int(90), "{} at x {x:?}", NAMES[i]);
        } else {
            assert!(x < Fixed::from_int(72), "{} at x {x:?}", NAMES[i]);
        }
    }
    insta::assert_snapshot!(trace(&lab, &NAMES));
}

/// Seven honest bots stroll about a speed hacker. The hacker walks east at
/// 1 m/s from 0.5 s to 4.0 s and three times claims a position 7-22 m away (direction and length
/// from its seeded stream): each claim is rejected with a correction, the
/// honest bots are never corrected, and none of them ever sees the hacker move
/// more than a walking step.
#[test]
fn a_speed_hacker_is_corrected() {
    let mut lab = Lab::new(small_view(), SEED);
    lab.record_frames = true;
    let names = ["ann", "bob", "cid", "dee", "eve", "fay", "gus", "hax"];
    let ring = [(-3, -3), (0, -3), (3, -3), (-3, 0), (-3, 3), (0, 3), (3, 3)];
    let honest: Vec<usize> = ring
        .iter()
        .zip(names)
        .map(|(&(dx, dy), name)| lab.join_at(name, INSTANT, Vec2::from_ints(81 + dx, 121 + dy)))
        .collect();
    let hax = lab.join_at("hax", INSTANT, Vec2::from_ints(81, 121));
    let mut strollers = Strollers::new(&honest, Fixed::from_raw(384));
    let mut rng = rng::stream(SEED, StreamKind::Bot, hax as u64);
    // Three cheats, about a second apart.
    let cheats: Vec<(u32, Vec2)> = (1..=3)
        .map(|k| {
            let frame = k * 20 + rng.next_u32() % 6;
            let len = 7 + (rng.next_u32() % 16) as i32;
            let (dx, dy) = [(1, 0), (0, 1), (-1, 0), (0, -1)][(rng.next_u32() % 4) as usize];
            (frame, Vec2::from_ints(dx * len, dy * len))
        })
        .collect();
    let mut frame = 0u32;
    lab.run(secs_f(4.5), FRAME, |lab| {
        frame += 1;
        strollers.step(lab);
        let now = lab.now;
        let client = &mut lab.peers[hax].client;
        if let Some(&(_, jump)) = cheats.iter().find(|(f, _)| *f == frame) {
            let here = client.avatar().unwrap().position();
            client.claim_position(now, here + jump);
        } else if (10..=80).contains(&frame) {
            client.move_with(now, Vec2::from_ints(1, 0));
        }
    });

    let msgs = messages(&lab);
    // The hacker was corrected once per cheat, and the correction stuck: the
    // server and the hacker's own client agree where it is.
    assert_eq!(corrections(&lab, hax), cheats.len());
    let server = lab.server_position(hax).unwrap();
    let client = lab.peers[hax].client.avatar().unwrap().position();
    assert_eq!(server, client);
    assert!(
        server.within(Vec2::from_ints(81, 121), Fixed::from_int(5)),
        "the hacker got away to {server:?}"
    );
    let hacker = lab.entity_of(hax).unwrap();
    for &i in &honest {
        assert_eq!(corrections(&lab, i), 0, "{} was corrected", names[i]);
        let updates = updates_of(&msgs, i);
        assert!(
            updates
                .iter()
                .any(|(_, u)| u.spawns.iter().any(|s| s.entity == hacker)),
            "{} never saw the hacker",
            names[i]
        );
        for (at, u) in &updates {
            assert!(u.correction.is_none());
            for up in u.updates.iter().filter(|up| up.entity == hacker) {
                // 1 m/s is 1.6/32 m per tick; a cheat would be 224 or more.
                assert!(
                    up.dx.abs() <= 4 && up.dy.abs() <= 4,
                    "{} saw the hacker jump ({}, {}) at {at:?}",
                    names[i],
                    up.dx,
                    up.dy
                );
            }
        }
    }
    insta::assert_snapshot!(trace(&lab, &names));
}

/// Eight bots stroll about; cid's connection drops at 1.0 s and gus's at 1.5
/// s. Each reconnects 2 s later, within the 30 s grace, and resumes the same
/// character, which the others saw standing there all along; the resumed
/// client is sent its whole view again.
#[test]
fn two_dropped_players_reconnect_and_resume() {
    let mut lab = Lab::new(small_view(), SEED);
    lab.record_frames = true;
    let ring = [
        (-3, -3),
        (0, -3),
        (3, -3),
        (-3, 0),
        (3, 0),
        (-3, 3),
        (0, 3),
        (3, 3),
    ];
    let ids: Vec<usize> = ring
        .iter()
        .zip(NAMES)
        .map(|(&(dx, dy), name)| lab.join_at(name, INSTANT, Vec2::from_ints(81 + dx, 121 + dy)))
        .collect();
    let (cid, gus) = (ids[2], ids[6]);
    let dropped = [cid, gus];
    let before: Vec<EntityId> = dropped.iter().map(|&i| lab.entity_of(i).unwrap()).collect();
    let mut strollers = Strollers::new(&ids, Fixed::from_int(1));
    let mut seen_while_away = Vec::new();
    for (end, then) in [(1.0, 0), (1.5, 1), (3.0, 2), (3.5, 3), (5.0, 4)] {
        lab.run(secs_f(end), FRAME, |lab| strollers.step(lab));
        match then {
            0 => lab.drop_connection(cid),
            1 => lab.drop_connection(gus),
            2 | 3 => {
                // Just before the reconnect, everyone else still has the
                // dropped character in view.
                let who = dropped[then - 2];
                let e = before[then - 2];
                for &i in ids.iter().filter(|&&i| !dropped.contains(&i)) {
                    seen_while_away.push((
                        NAMES[i],
                        NAMES[who],
                        lab.peers[i].client.remotes().contains_key(&e),
                    ));
                }
                lab.connect(who);
            }
            _ => {}
        }
    }

    for (observer, who, seen) in seen_while_away {
        assert!(seen, "{observer} lost sight of {who} while it was away");
    }
    let msgs = messages(&lab);
    for (k, &i) in dropped.iter().enumerate() {
        let welcomes: Vec<bool> = lab.peers[i]
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                ClientEvent::Welcomed { resumed, .. } => Some(*resumed),
                _ => None,
            })
            .collect();
        assert_eq!(welcomes, [false, true], "{} was welcomed back", NAMES[i]);
        assert_eq!(
            lab.entity_of(i),
            Some(before[k]),
            "{} kept its character",
            NAMES[i]
        );
        // The resync: every other bot spawned again after the resume.
        let resumed_at = lab.peers[i]
            .events
            .iter()
            .find(|(_, e)| matches!(e, ClientEvent::Welcomed { resumed: true, .. }))
            .unwrap()
            .0;
        let respawned: BTreeSet<EntityId> = updates_of(&msgs, i)
            .iter()
            .filter(|(at, _)| *at >= resumed_at)
            .flat_map(|(_, u)| u.spawns.iter().map(|s| s.entity))
            .collect();
        for &j in ids.iter().filter(|&&j| j != i) {
            assert!(respawned.contains(&lab.entity_of(j).unwrap()));
        }
    }
    for &i in &ids {
        assert_eq!(corrections(&lab, i), 0, "{} was corrected", NAMES[i]);
        if dropped.contains(&i) {
            continue;
        }
        // Nobody else ever saw a dropped player leave, or move while away.
        for (at, u) in updates_of(&msgs, i) {
            for (k, &e) in before.iter().enumerate() {
                assert!(
                    !u.despawns.contains(&e),
                    "{} saw {} leave",
                    NAMES[i],
                    NAMES[dropped[k]]
                );
                let away = secs_f(1.1 + 0.5 * k as f64)..secs_f(3.0 + 0.5 * k as f64);
                if away.contains(&at) {
                    assert!(
                        u.updates
                            .iter()
                            .all(|up| up.entity != e || (up.dx, up.dy) == (0, 0)),
                        "{} saw {} move while away",
                        NAMES[i],
                        NAMES[dropped[k]]
                    );
                }
            }
        }
    }
    insta::assert_snapshot!(trace(&lab, &NAMES));
}

/// The zone of peer `i`'s character (for scenarios that look at monsters).
fn zone_of(lab: &Lab, i: usize) -> &game_core::zone::Zone {
    let player = lab.peers[i].client.player().expect("in the world");
    let at = lab.node.player(player).unwrap().location.unwrap();
    lab.node.world().zone(at.zone).unwrap()
}

/// Renders what each peer heard in a fight: zone entries, skillbooks and
/// refusals, and of each `WorldUpdate` its spawns, despawns and correction
/// (one line), its `me` (one line) and each combat event (one line each);
/// movement updates and heartbeats are left out. Entities show as
/// `name#id` (players by their bot's name, monsters by their kind).
fn fight_trace(lab: &Lab, names: &[&str], content: &Content) -> String {
    let mut who: BTreeMap<EntityId, String> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(e) = lab.entity_of(i) {
            who.insert(e, (*name).to_string());
        }
    }
    let msgs = messages(lab);
    for (_, _, msg) in &msgs {
        if let ServerMsg::World(ServerWorld::WorldUpdate(u)) = msg {
            for s in u.spawns.iter().filter(|s| s.kind != EntityKind::Player) {
                let kind = match s.kind {
                    EntityKind::Monster => content
                        .monster(MonsterKindId(s.look))
                        .map_or("monster", |m| m.name.as_str()),
                    _ => "npc",
                };
                who.entry(s.entity).or_insert_with(|| kind.to_string());
            }
        }
    }
    let name = |e: EntityId| format!("{}#{}", who.get(&e).map_or("?", |n| n.as_str()), e.0);
    let skill = |s: u16| {
        content
            .skill(SkillId(s))
            .map_or_else(|| format!("skill{s}"), |d| d.name.clone())
    };
    let mut out = String::from("cast:");
    for (e, n) in &who {
        let _ = write!(out, " {n}#{}", e.0);
    }
    out.push('\n');
    for (at, peer, msg) in msgs {
        let head = format!("{at:?} {}:", names[peer]);
        let mut lines: Vec<String> = Vec::new();
        match msg {
            ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                // Its own character (the placement after the first entry may
                // free an id a monster takes later).
                lines.push(format!(
                    "zone {} as {}#{} at {:?}",
                    z.map, names[peer], z.entity.0, z.pos
                ))
            }
            ServerMsg::Combat(ServerCombat::Skillbook {
                auto_attack,
                skills,
                ..
            }) => lines.push(format!(
                "Skillbook: {} skills, auto-attack {}",
                skills.len(),
                skill(auto_attack)
            )),
            ServerMsg::Combat(ServerCombat::SkillRefused { skill: s, reason }) => {
                lines.push(format!("SkillRefused {} {reason:?}", skill(s)))
            }
            ServerMsg::Economy(e) => lines.push(snapshots::economy_line(&e)),
            ServerMsg::World(ServerWorld::WorldUpdate(u)) => {
                let t = u.tick.0;
                if !u.spawns.is_empty() || !u.despawns.is_empty() || u.correction.is_some() {
                    let mut s = format!("tick {t}");
                    for sp in &u.spawns {
                        let _ = write!(
                            s,
                            " +{}(lv{} hp{} at {},{})",
                            name(sp.entity),
                            sp.level,
                            sp.health,
                            sp.pos.x,
                            sp.pos.y
                        );
                    }
                    for d in &u.despawns {
                        let _ = write!(s, " -{}", name(*d));
                    }
                    if let Some(c) = u.correction {
                        let _ = write!(s, " CORRECTION seq {} to {:?}", c.seq, c.pos);
                    }
                    lines.push(s);
                }
                if let Some(m) = u.me {
                    lines.push(format!(
                        "tick {t} me hp {}/{} mp {}/{} lv {} xp {} speed {}%",
                        m.health,
                        m.max_health,
                        m.mana,
                        m.max_mana,
                        m.level,
                        m.experience,
                        m.speed_pct
                    ));
                }
                for e in &u.events {
                    let text = match *e {
                        CombatEvent::Hit {
                            source,
                            target,
                            skill: s,
                            amount,
                            outcome,
                        } => format!(
                            "Hit {} -> {} {} {amount} {outcome:?}",
                            name(source),
                            name(target),
                            skill(s)
                        ),
                        CombatEvent::CastStarted {
                            caster,
                            skill: s,
                            target,
                            cast_ms,
                        } => format!(
                            "CastStarted {} {} on {} {cast_ms} ms",
                            name(caster),
                            skill(s),
                            target.map_or("-".to_string(), name)
                        ),
                        CombatEvent::CastEnded {
                            caster,
                            skill: s,
                            completed,
                        } => format!(
                            "CastEnded {} {} {}",
                            name(caster),
                            skill(s),
                            if completed {
                                "completed"
                            } else {
                                "interrupted"
                            }
                        ),
                        CombatEvent::Health { entity, fraction } => {
                            format!("Health {} {fraction}/255", name(entity))
                        }
                        CombatEvent::Died {
                            entity,
                            killer,
                            respawn_ms,
                        } => format!(
                            "Died {} by {} respawn {respawn_ms} ms",
                            name(entity),
                            killer.map_or("-".to_string(), name)
                        ),
                        CombatEvent::Revived { entity } => format!("Revived {}", name(entity)),
                        CombatEvent::EffectStarted {
                            entity,
                            skill: s,
                            kind,
                            ms,
                        } => format!(
                            "EffectStarted {} {kind:?} of {} {ms} ms",
                            name(entity),
                            skill(s)
                        ),
                        CombatEvent::EffectEnded { entity, kind } => {
                            format!("EffectEnded {} {kind:?}", name(entity))
                        }
                        CombatEvent::LevelUp { entity, level } => {
                            format!("LevelUp {} to {level}", name(entity))
                        }
                    };
                    lines.push(format!("tick {t} {text}"));
                }
            }
            ServerMsg::Session(ServerSession::Ping { .. })
            | ServerMsg::Session(ServerSession::Pong { .. }) => {}
            other => lines.push(format!("{other:?}")),
        }
        for l in lines {
            let _ = writeln!(out, "{head} {l}");
        }
    }
    out
}

/// Two players fight a slime beside the meadow's spawn (a test content: one
/// slime worth 400 experience, back 3 s after it dies, and a bear 20 m
/// east). The slime aggroes on the nearer, bob, and hits him; ann
/// auto-attacks it and stuns it with hammer, bob casts firebolt, and they
/// are refused three times on the way (bob's second cast while casting,
/// ann's hammer on cooldown and her mend on a monster). Bob's firebolt kills
/// the slime (no loot: nothing drops in this game); both get their share of
/// its experience (by threat) and level up. Ann steps back out of its aggro
/// radius; its corpse leaves 3 s later and a new slime takes its place. Bob
/// walks on towards the bear, which aggroes and kills him in two hits, then
/// walks home; bob comes back 5 s later at the map's respawn point (a
/// correction with a new epoch), full health, still level 2.
#[test]
fn two_players_kill_a_slime_and_one_dies_to_a_bear() {
    let mut content = Content::sample();
    let kind = |c: &Content, n: &str| c.monsters.iter().find(|m| m.name == n).unwrap().id;
    let (slime_kind, bear_kind) = (kind(&content, "slime"), kind(&content, "bear"));
    content.monsters[slime_kind.0 as usize].experience = 400;
    let group = |monster, cell, respawn_ms| SpawnGroup {
        monster,
        cell,
        count: 1,
        radius_cells: 0,
        respawn_ms,
    };
    content.maps.get_mut("meadow").unwrap().groups = vec![
        group(slime_kind, (60, 70), 3_000),
        group(bear_kind, (70, 70), 60_000),
    ];
    let content = Arc::new(content);
    let mut lab = Lab::with_content(small_view(), SEED, Arc::clone(&content));
    lab.record_frames = true;
    let names = ["ann", "bob"];
    // The slime stands at (121, 141), the bear at (141, 141).
    let ann = lab.join_at("ann", INSTANT, Vec2::from_ints(118, 141));
    let bob = lab.join_at("bob", INSTANT, Vec2::from_ints(119, 143));
    let monster_near = |lab: &Lab, x: i32| {
        zone_of(lab, ann)
            .entities()
            .filter(|(_, k, _)| *k == EntityKind::Monster)
            .min_by_key(|(_, _, p)| p.distance_squared_raw(Vec2::from_ints(x, 141)))
            .map(|(e, _, _)| e)
            .unwrap()
    };
    let slime = monster_near(&lab, 121);
    let bear = monster_near(&lab, 141);
    assert_ne!(slime, bear);
    let (firebolt, mend, hammer) = (1, 2, 6);
    let mut frame = 0u32;
    let mut killed: Option<u32> = None;
    lab.run(secs_f(11.0), FRAME, |lab| {
        frame += 1;
        let now = lab.now;
        match frame {
            10 => {
                lab.peers[ann].client.attack(slime);
                lab.peers[bob].client.use_skill(firebolt, Some(slime));
            }
            11 => lab.peers[bob].client.use_skill(firebolt, Some(slime)),
            14 => lab.peers[ann].client.use_skill(hammer, Some(slime)),
            16 => lab.peers[ann].client.use_skill(hammer, Some(slime)),
            // Past hammer's global cooldown: judged on its target.
            36 => lab.peers[ann].client.use_skill(mend, Some(slime)),
            _ => {}
        }
        let dead = zone_of(lab, ann)
            .fighter_of(slime)
            .is_none_or(|f| f.is_dead());
        if killed.is_none() && frame > 10 && dead {
            killed = Some(frame);
        }
        let Some(k) = killed else {
            return;
        };
        // Ann steps 4 m back west; bob walks east until 11 m from the bear's
        // home, then stands.
        if (k + 2..k + 22).contains(&frame) {
            lab.peers[ann].client.move_with(now, Vec2::from_ints(-4, 0));
        } else if frame == k + 22 {
            lab.peers[ann].client.move_with(now, Vec2::ZERO);
        }
        if frame > k + 2 {
            let x = lab.server_position(bob).unwrap().x;
            let alive = zone_of(lab, bob)
                .fighter_of(lab.entity_of(bob).unwrap())
                .is_some_and(|f| !f.is_dead());
            let walking = alive && x < Fixed::from_int(130) && x > Fixed::from_int(110);
            let v = if walking {
                Vec2::from_ints(4, 0)
            } else {
                Vec2::ZERO
            };
            lab.peers[bob].client.move_with(now, v);
        }
    });

    let trace = fight_trace(&lab, &names, &content);
    let events = |i: usize| -> Vec<CombatEvent> {
        let msgs = messages(&lab);
        updates_of(&msgs, i)
            .iter()
            .flat_map(|(_, u)| u.events.clone())
            .collect()
    };
    let refused = |i: usize| -> Vec<SkillRefusal> {
        messages(&lab)
            .into_iter()
            .filter_map(|(_, p, m)| match m {
                ServerMsg::Combat(ServerCombat::SkillRefused { reason, .. }) if p == i => {
                    Some(reason)
                }
                _ => None,
            })
            .collect()
    };
    let (a, b) = (lab.entity_of(ann).unwrap(), lab.entity_of(bob).unwrap());
    let (ea, eb) = (events(ann), events(bob));
    // The slime aggroed and hit back, and died to one of them.
    assert!(eb.iter().any(
        |e| matches!(e, CombatEvent::Hit { source, target, .. } if *source == slime && *target == b)
    ));
    assert!(ea.iter().any(
        |e| matches!(e, CombatEvent::Died { entity, killer: Some(k), .. } if *entity == slime && (*k == a || *k == b))
    ));
    // Both levelled up from its experience.
    for (e, me) in [(&ea, a), (&eb, b)] {
        assert!(e
            .iter()
            .any(|e| matches!(e, CombatEvent::LevelUp { entity, level: 2 } if *entity == me)));
    }
    // The refusals, in order.
    assert_eq!(refused(bob), [SkillRefusal::Casting]);
    assert_eq!(
        refused(ann),
        [SkillRefusal::OnCooldown, SkillRefusal::InvalidTarget]
    );
    // The bear killed bob, and he came back at the respawn point.
    assert!(eb.iter().any(
        |e| matches!(e, CombatEvent::Died { entity, killer: Some(k), respawn_ms: 5000 } if *entity == b && *k == bear)
    ));
    assert!(eb
        .iter()
        .any(|e| matches!(e, CombatEvent::Revived { entity } if *entity == b)));
    let respawn = Vec2::from_ints(81, 121);
    assert_eq!(lab.server_position(bob), Some(respawn));
    let f = zone_of(&lab, bob).fighter_of(b).unwrap();
    assert_eq!((f.health, f.level), (f.max_health, 2));
    // Ann never died, and stands out of the new slime's reach.
    assert!(!ea
        .iter()
        .any(|e| matches!(e, CombatEvent::Died { entity, .. } if *entity == a)));
    insta::assert_snapshot!(trace);
}
