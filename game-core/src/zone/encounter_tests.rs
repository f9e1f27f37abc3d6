//! The raid encounter in one zone, tick by tick: phases and their adds, the
//! area attack announced before it lands (and dodged by moving out), the
//! enrage, the time limit, a wipe, deaths that wait for the end, and each
//! player's damage.

use super::*;
use crate::content::{Adds, AreaAttack, Content, MonsterKindId, Phase, RaidFight};
use crate::protocol::{CombatEvent, RaidEnd};

const BEAR: MonsterKindId = MonsterKindId(3);
const WOLF: MonsterKindId = MonsterKindId(1);

fn fight() -> RaidFight {
    RaidFight {
        map: "ember_lair".into(),
        time_limit_ms: 60_000,
        close_after_ms: 10_000,
        boss: BEAR,
        boss_cell: (30, 15),
        enrage_ms: 20_000,
        enrage_power_pct: 200,
        phases: vec![
            Phase {
                health_pm: 1000,
                area: Some(AreaAttack {
                    every_ms: 3_000,
                    warn_ms: 1_000,
                    radius: Fixed::from_int(3),
                    damage: 40,
                }),
                adds: None,
            },
            Phase {
                health_pm: 500,
                area: None,
                adds: Some(Adds {
                    monster: WOLF,
                    count: 2,
                }),
            },
        ],
        reward_gold: 10,
        reward_item: None,
    }
}

/// An instance zone of the raid map running `fight`, and a player spawned
/// at the map's spawn (far from the boss).
fn lair(fight: RaidFight) -> (Zone, EntityId) {
    let map = Arc::new(Map::parse(SAMPLE_MAPS[2]).unwrap());
    assert_eq!(map.name(), "ember_lair");
    let content = Arc::new(Content::sample());
    let mut z = Zone::new(ZoneId(9), map, 0, ZoneConfig::default(), 20, 7, content);
    z.start_encounter(Arc::new(fight));
    let p = z.spawn_player(PlayerId(1), None, 0, Instant::ZERO);
    (z, p)
}

fn run(z: &mut Zone, ticks: u64) -> (Vec<EncounterEvent>, Vec<CombatEvent>) {
    let (mut enc, mut combat) = (Vec::new(), Vec::new());
    for _ in 0..ticks {
        let at = Instant::from_micros((z.tick().0 + 1) * 50_000);
        z.run_tick(at);
        enc.extend(z.take_encounter_events());
        combat.extend(z.combat_events().copied());
    }
    (enc, combat)
}

fn boss(z: &Zone) -> EntityId {
    z.encounter().unwrap().boss.unwrap()
}

fn monsters(z: &Zone) -> usize {
    z.entities()
        .filter(|(_, k, _)| *k == EntityKind::Monster)
        .count()
}

#[test]
fn the_area_attack_is_announced_then_lands_where_the_player_stood() {
    let (mut z, p) = lair(fight());
    let full = z.fighter_of(p).unwrap().health;
    // Nothing before its period.
    let (events, _) = run(&mut z, 59);
    assert!(events.is_empty(), "{events:?}");
    let (events, _) = run(&mut z, 1);
    let Some(EncounterEvent::Warning {
        center,
        lands_in_ms: 1_000,
        damage: 40,
        ..
    }) = events.first().copied()
    else {
        panic!("a warning: {events:?}");
    };
    assert_eq!(Some(center), z.position(p));
    assert_eq!(z.fighter_of(p).unwrap().health, full, "not yet");
    let (_, combat) = run(&mut z, 19);
    assert!(!z.encounter().unwrap().area_landed);
    assert!(combat.is_empty(), "{combat:?}");
    // It lands at the twentieth tick, and the view says so for that tick.
    let (_, combat) = run(&mut z, 1);
    assert!(z.encounter().unwrap().area_landed);
    assert!(combat
        .iter()
        .any(|e| matches!(e, CombatEvent::Hit { target, amount: 40, .. } if *target == p)));
    assert_eq!(z.fighter_of(p).unwrap().health, full - 40);
    run(&mut z, 1);
    assert!(!z.encounter().unwrap().area_landed, "only that tick");
}

#[test]
fn stepping_out_of_the_warned_circle_dodges_the_attack() {
    let (mut z, p) = lair(fight());
    let full = z.fighter_of(p).unwrap().health;
    run(&mut z, 60);
    // Moved 5 m away (the radius is 3 m) before it lands.
    let slot = z.slot_of(p).unwrap();
    let away = z.position(p).unwrap() + Vec2::from_ints(5, 0);
    z.teleport_entity(slot, away);
    run(&mut z, 20);
    assert_eq!(z.fighter_of(p).unwrap().health, full);
}

#[test]
fn half_health_starts_phase_two_with_its_adds_and_the_boss_enrages_on_time() {
    let (mut z, _) = lair(fight());
    run(&mut z, 1);
    assert_eq!(monsters(&z), 1);
    let b = boss(&z);
    let power = z.fighter_of(b).unwrap().power;
    let f = z.fighter_mut_of(b).unwrap();
    f.health = f.max_health / 2;
    let (events, _) = run(&mut z, 1);
    assert_eq!(events, vec![EncounterEvent::Changed]);
    assert_eq!(z.encounter().unwrap().phase, 1);
    assert_eq!(monsters(&z), 3, "the boss and two adds");
    // Phase two has no area attack.
    let (events, _) = run(&mut z, 399 - 2);
    assert!(events.is_empty(), "{events:?}");
    assert!(!z.encounter().unwrap().enraged);
    let (events, _) = run(&mut z, 3);
    assert_eq!(events, vec![EncounterEvent::Changed]);
    assert!(z.encounter().unwrap().enraged);
    assert_eq!(z.fighter_of(b).unwrap().power, power * 2);
}

#[test]
fn the_boss_dying_is_a_victory_and_its_adds_leave() {
    let (mut z, _) = lair(fight());
    run(&mut z, 1);
    let b = boss(&z);
    let f = z.fighter_mut_of(b).unwrap();
    f.health = f.max_health / 3;
    run(&mut z, 1);
    assert_eq!(monsters(&z), 3);
    z.fighter_mut_of(b).unwrap().health = 0;
    let (events, _) = run(&mut z, 1);
    assert_eq!(events, vec![EncounterEvent::Ended(RaidEnd::Victory)]);
    assert_eq!(monsters(&z), 0);
    let view = z.encounter().unwrap();
    assert_eq!((view.end, view.remaining_ms), (Some(RaidEnd::Victory), 0));
    // Over is over: nothing more happens.
    let (events, _) = run(&mut z, 200);
    assert!(events.is_empty());
}

#[test]
fn time_running_out_fails_the_raid() {
    let mut f = fight();
    f.phases[0].area = None;
    f.enrage_ms = 0;
    let (mut z, _) = lair(f);
    let (events, _) = run(&mut z, 1_199);
    assert!(events.is_empty(), "{events:?}");
    let (events, _) = run(&mut z, 1);
    assert_eq!(events, vec![EncounterEvent::Ended(RaidEnd::TimeUp)]);
    assert_eq!(z.encounter().unwrap().elapsed_ms, 60_000);
}

#[test]
fn a_dead_player_waits_for_the_end_and_everyone_dead_is_a_wipe() {
    let (mut z, p) = lair(fight());
    let q = z.spawn_player(PlayerId(2), None, 0, Instant::ZERO);
    run(&mut z, 1);
    // The first area attack kills p; q stands clear of it.
    z.fighter_mut_of(p).unwrap().health = 10;
    let slot = z.slot_of(q).unwrap();
    let clear = z.position(p).unwrap() + Vec2::from_ints(0, 10);
    z.teleport_entity(slot, clear);
    // The attack lands on a living player drawn at random: run until it
    // has picked p (q is healed after every tick).
    let mut waited = 0;
    while !z.fighter_of(p).unwrap().is_dead() && waited < 2_000 {
        run(&mut z, 1);
        waited += 1;
        let qf = z.fighter_mut_of(q).unwrap();
        qf.health = qf.max_health;
    }
    assert!(z.fighter_of(p).unwrap().is_dead());
    assert_eq!(z.tally(PlayerId(1)).deaths, 1);
    // Far past the usual respawn delay, still dead.
    for _ in 0..400 {
        run(&mut z, 1);
        let qf = z.fighter_mut_of(q).unwrap();
        qf.health = qf.max_health;
    }
    assert!(z.fighter_of(p).unwrap().is_dead());
    // q dies too: a wipe, and both come back.
    z.fighter_mut_of(q).unwrap().health = 1;
    let mut events = Vec::new();
    let mut waited = 0;
    while events.is_empty() && waited < 2_000 {
        events = run(&mut z, 1)
            .0
            .into_iter()
            .filter(|e| matches!(e, EncounterEvent::Ended(_)))
            .collect();
        waited += 1;
    }
    assert_eq!(events, vec![EncounterEvent::Ended(RaidEnd::Wiped)]);
    assert!(!z.fighter_of(p).unwrap().is_dead());
    assert!(!z.fighter_of(q).unwrap().is_dead());
}

#[test]
fn a_players_damage_to_the_boss_is_tallied() {
    let (mut z, p) = lair(fight());
    run(&mut z, 1);
    let b = boss(&z);
    let slot = z.slot_of(p).unwrap();
    let near = z.position(b).unwrap() + Vec2::from_ints(-2, 0);
    z.teleport_entity(slot, near);
    run(&mut z, 2);
    z.queue_combat(
        p,
        crate::protocol::ClientCombat::Attack { target: b },
        Duration::ZERO,
    );
    for _ in 0..100 {
        run(&mut z, 1);
        let f = z.fighter_mut_of(p).unwrap();
        f.health = f.max_health;
    }
    let dealt = z.fighter_of(b).unwrap().max_health - z.fighter_of(b).unwrap().health;
    let refused: Vec<_> = z.take_refusals().map(|r| r.reason).collect();
    assert!(dealt > 0, "{refused:?} {:?}", z.position(p));
    assert_eq!(z.tally(PlayerId(1)).damage, u64::from(dealt));
}
