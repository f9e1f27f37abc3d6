//! Combat in one zone, driven tick by tick: skills judged at the tick,
//! typed refusals, lag compensation, monsters' brains, death, respawn and
//! experience.

use super::*;
use crate::content::{MapContent, MonsterKindId, SpawnGroup};
use crate::protocol::{ClientCombat, CombatEvent, SkillRefusal};

const SLIME: MonsterKindId = MonsterKindId(0);
const ATTACK: u16 = 0;
const FIREBOLT: u16 = 1;
const HAMMER: u16 = 6;
const FROST_SHOT: u16 = 7;

fn ms(n: u64) -> Instant {
    Instant::from_micros(n * 1000)
}

/// A 100 x 100 cell open map (2 m cells) with a wall along x = 40 m from
/// y = 0 to 80 m, and one slime group at cell (10, 10) when `monsters`.
fn arena(monsters: u16) -> Zone {
    let mut text = String::from("name arena\ncell 2\nspawn 5 5\ngrid\n");
    for y in 0..100 {
        for x in 0..100 {
            text.push(if x == 20 && y < 40 { '#' } else { '.' });
        }
        text.push('\n');
    }
    let map = Arc::new(Map::parse(&text).unwrap());
    let mut content = crate::content::Content::sample();
    content.maps.insert(
        "arena".into(),
        MapContent {
            respawn: (2, 2),
            groups: (monsters > 0)
                .then_some(SpawnGroup {
                    monster: SLIME,
                    cell: (10, 10),
                    count: monsters,
                    radius_cells: 0,
                    respawn_ms: 3_000,
                })
                .into_iter()
                .collect(),
        },
    );
    Zone::new(
        ZoneId(1),
        map,
        0,
        ZoneConfig::default(),
        20,
        7,
        Arc::new(content),
    )
}

struct Clock(u64);

impl Clock {
    fn tick(&mut self, z: &mut Zone) -> Vec<CombatEvent> {
        self.0 += 50;
        z.run_tick(ms(self.0));
        z.combat_events().copied().collect()
    }

    fn ticks(&mut self, z: &mut Zone, n: usize) -> Vec<CombatEvent> {
        (0..n).flat_map(|_| self.tick(z)).collect()
    }
}

fn monster(z: &Zone) -> EntityId {
    z.entities()
        .find(|(_, kind, _)| *kind == EntityKind::Monster)
        .map(|(id, _, _)| id)
        .expect("a monster")
}

fn use_skill(z: &mut Zone, who: EntityId, skill: u16, target: Option<EntityId>) {
    z.queue_combat(
        who,
        ClientCombat::UseSkill { skill, target },
        Duration::ZERO,
    );
}

fn refusals(z: &mut Zone) -> Vec<SkillRefusal> {
    z.take_refusals().map(|r| r.reason).collect()
}

#[test]
fn a_player_kills_a_monster_and_gains_its_experience() {
    let mut z = arena(1);
    let mut clock = Clock(0);
    let slime = monster(&z);
    let spot = z.position(slime).unwrap() + Vec2::from_ints(2, 0);
    let p = z.spawn_player(PlayerId(1), Some(spot), 0, ms(0));
    clock.tick(&mut z);
    z.queue_combat(p, ClientCombat::Attack { target: slime }, Duration::ZERO);
    let events = clock.ticks(&mut z, 400);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, CombatEvent::Died { entity, .. } if *entity == slime)),
        "the slime died"
    );
    let f = z.fighter_of(p).unwrap();
    assert_eq!(f.experience, 20, "the slime's experience, all of it");
    assert_eq!(z.stats().experience_granted, z.stats().experience_of_kills);
    assert_eq!(
        z.take_progress().next_back().map(|g| g.experience),
        Some(20)
    );
    assert!(refusals(&mut z).is_empty());
    // The corpse leaves, and the group's member comes back after its respawn time.
    assert!(z.entities().any(|(_, k, _)| k == EntityKind::Monster));
}

#[test]
fn the_monster_fights_back_and_a_dead_player_respawns_at_the_respawn_point() {
    let mut z = arena(3);
    let mut clock = Clock(0);
    let slime = monster(&z);
    let spot = z.position(slime).unwrap() + Vec2::from_ints(1, 0);
    let p = z.spawn_player(PlayerId(1), Some(spot), 0, ms(0));
    // Standing next to three slimes without fighting back: they aggro and hit.
    let mut died = false;
    let mut revived = false;
    for _ in 0..2_000 {
        for e in clock.tick(&mut z) {
            died |= matches!(e, CombatEvent::Died { entity, .. } if entity == p);
            revived |= matches!(e, CombatEvent::Revived { entity } if entity == p);
        }
        let f = z.fighter_of(p).unwrap();
        assert!(f.health <= f.max_health);
        if revived {
            break;
        }
    }
    assert!(died && revived, "died {died} revived {revived}");
    let f = z.fighter_of(p).unwrap();
    assert_eq!(f.health, f.max_health, "back at full health");
    assert_eq!(z.position(p), Some(z.map().cell_center((2, 2))));
    assert!(z.stats().player_deaths >= 1);
}

#[test]
fn requests_are_refused_with_a_reason_and_nothing_is_spent() {
    let mut z = arena(1);
    let mut clock = Clock(0);
    let slime = monster(&z);
    let near = z.position(slime).unwrap() + Vec2::from_ints(2, 0);
    let p = z.spawn_player(PlayerId(1), Some(near), 0, ms(0));
    let q = z.spawn_player(PlayerId(2), Some(near + Vec2::from_ints(0, 2)), 0, ms(0));
    let far = z.spawn_player(PlayerId(3), Some(Vec2::from_ints(180, 180)), 0, ms(0));
    clock.tick(&mut z);
    // Unknown skill, a damage skill on oneself and on another player, a target
    // not in view.
    use_skill(&mut z, p, 999, Some(slime));
    use_skill(&mut z, p, ATTACK, Some(p));
    use_skill(&mut z, p, ATTACK, Some(q));
    use_skill(&mut z, p, ATTACK, Some(far));
    clock.tick(&mut z);
    assert_eq!(
        refusals(&mut z),
        vec![
            SkillRefusal::UnknownSkill,
            SkillRefusal::InvalidTarget,
            SkillRefusal::InvalidTarget,
            SkillRefusal::NotVisible
        ]
    );
    // The global cooldown, then a cast in progress.
    use_skill(&mut z, p, FROST_SHOT, Some(slime));
    use_skill(&mut z, p, HAMMER, Some(slime));
    clock.tick(&mut z);
    assert_eq!(refusals(&mut z), vec![SkillRefusal::GlobalCooldown]);
    clock.ticks(&mut z, 20);
    use_skill(&mut z, p, FROST_SHOT, Some(slime));
    clock.tick(&mut z);
    assert_eq!(refusals(&mut z), vec![SkillRefusal::OnCooldown]);
    let mana = z.fighter_of(p).unwrap().mana;
    use_skill(&mut z, p, FIREBOLT, Some(slime));
    clock.tick(&mut z);
    use_skill(&mut z, p, HAMMER, Some(slime));
    clock.tick(&mut z);
    assert_eq!(refusals(&mut z), vec![SkillRefusal::Casting]);
    assert_eq!(
        z.fighter_of(p).unwrap().mana,
        mana,
        "nothing paid before the cast lands"
    );
    // Past the per-tick allowance: dropped and refused once.
    for _ in 0..10 {
        z.queue_combat(p, ClientCombat::StopAttack, Duration::ZERO);
    }
    clock.tick(&mut z);
    assert_eq!(refusals(&mut z), vec![SkillRefusal::TooFast]);
    assert_eq!(z.stats().combat_dropped, 6);
    // The dead neither use skills nor start attacking.
    clock.ticks(&mut z, 40);
    z.fighter_mut_of(q).unwrap().health = 0;
    use_skill(&mut z, q, ATTACK, Some(slime));
    z.queue_combat(q, ClientCombat::Attack { target: slime }, Duration::ZERO);
    clock.tick(&mut z);
    assert_eq!(
        refusals(&mut z),
        vec![SkillRefusal::Dead, SkillRefusal::Dead]
    );
    assert_eq!(z.fighter_of(q).unwrap().auto_target, None);
}

#[test]
fn walls_block_sight_and_range_is_checked() {
    let mut z = arena(0);
    let mut clock = Clock(0);
    // Two players either side of the wall at x = 40 m, and a slime-free map:
    // a heal on an ally through the wall has no line of sight.
    let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(36, 20)), 0, ms(0));
    let b = z.spawn_player(PlayerId(2), Some(Vec2::from_ints(44, 20)), 0, ms(0));
    let c = z.spawn_player(PlayerId(3), Some(Vec2::from_ints(36, 100)), 0, ms(0));
    clock.tick(&mut z);
    const MEND: u16 = 2;
    use_skill(&mut z, a, MEND, Some(b));
    clock.tick(&mut z);
    assert_eq!(refusals(&mut z), vec![SkillRefusal::NoLineOfSight]);
    // 80 m away but in view? No: beyond the view radius, so not visible.
    use_skill(&mut z, a, MEND, Some(c));
    clock.tick(&mut z);
    assert_eq!(refusals(&mut z), vec![SkillRefusal::NotVisible]);
}

/// A target walking away (5 m/s) is judged where the caster saw it: half
/// the caster's round trip plus the client's interpolation delay back, never
/// more than 200 ms (4 ticks) back.
#[test]
fn lag_compensation_uses_where_the_caster_saw_the_target_up_to_200_ms() {
    // (ticks it walks, the caster's delay, whether the heal lands): it starts
    // 25.3 m away, 0.25 m farther each tick, and mend reaches 25 m (+0.5 m).
    let cases = [
        (4, 0, false),
        (4, 175, true),
        (8, 175, false),
        // A claim of a whole second of delay rewinds no more than 200 ms.
        (8, 1_000, false),
    ];
    for (walk, delay_ms, lands) in cases {
        let mut z = arena(0);
        let mut clock = Clock(0);
        let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 150)), 0, ms(0));
        let mut pos = Vec2::new(Fixed::from_raw(125 * 256 + 77), Fixed::from_int(150));
        let b = z.spawn_player(PlayerId(2), Some(pos), 0, ms(0));
        clock.ticks(&mut z, 10);
        for seq in 1..=walk {
            pos = pos + Vec2::new(Fixed::from_raw(64), Fixed::ZERO);
            let epoch = z.epoch_of(b).unwrap();
            let input = crate::protocol::MoveInput {
                seq,
                epoch,
                client_time_us: 0,
                pos,
                vel: Vec2::ZERO,
            };
            z.queue_move(b, ms(clock.0), input);
            clock.tick(&mut z);
        }
        assert_eq!(z.position(b), Some(pos), "every step accepted");
        let heal = ClientCombat::UseSkill {
            skill: 2,
            target: Some(b),
        };
        z.queue_combat(a, heal, Duration::from_millis(delay_ms));
        clock.tick(&mut z);
        let refused = refusals(&mut z);
        if lands {
            assert!(
                refused.is_empty(),
                "{walk} ticks, {delay_ms} ms: {refused:?}"
            );
        } else {
            assert_eq!(
                refused,
                vec![SkillRefusal::OutOfRange],
                "{walk} ticks, {delay_ms} ms"
            );
        }
    }
}

#[test]
fn moving_interrupts_a_cast_and_nothing_is_paid() {
    let mut z = arena(1);
    let mut clock = Clock(0);
    let slime = monster(&z);
    let spot = z.position(slime).unwrap() + Vec2::from_ints(10, 0);
    let p = z.spawn_player(PlayerId(1), Some(spot), 0, ms(0));
    clock.tick(&mut z);
    let mana = z.fighter_of(p).unwrap().mana;
    use_skill(&mut z, p, FIREBOLT, Some(slime));
    let started = clock.tick(&mut z);
    assert!(started
        .iter()
        .any(|e| matches!(e, CombatEvent::CastStarted { caster, .. } if *caster == p)));
    let epoch = z.epoch_of(p).unwrap();
    z.queue_move(
        p,
        ms(clock.0),
        crate::protocol::MoveInput {
            seq: 1,
            epoch,
            client_time_us: 0,
            pos: spot + Vec2::from_ints(0, 1),
            vel: Vec2::ZERO,
        },
    );
    let ended = clock.tick(&mut z);
    assert!(ended.iter().any(
        |e| matches!(e, CombatEvent::CastEnded { caster, completed: false, .. } if *caster == p)
    ));
    clock.ticks(&mut z, 40);
    assert_eq!(z.fighter_of(p).unwrap().mana, mana);
    assert_eq!(
        z.fighter_of(slime).unwrap().health,
        z.fighter_of(slime).unwrap().max_health
    );
}

#[test]
fn a_monster_pulled_past_its_leash_goes_home_and_resets() {
    let mut z = arena(1);
    let mut clock = Clock(0);
    let slime = monster(&z);
    let home = z.position(slime).unwrap();
    let p = z.spawn_player(PlayerId(1), Some(home + Vec2::from_ints(2, 0)), 0, ms(0));
    clock.tick(&mut z);
    use_skill(&mut z, p, ATTACK, Some(slime));
    clock.ticks(&mut z, 5);
    assert!(z.fighter_of(slime).unwrap().health < z.fighter_of(slime).unwrap().max_health);
    // Run away (teleported, as a fast escape) beyond the 20 m leash.
    z.teleport_entity((p.0 - 1) as u32, home + Vec2::from_ints(0, 60));
    clock.ticks(&mut z, 1_000);
    let f = z.fighter_of(slime).unwrap();
    assert_eq!(f.health, f.max_health, "reset on reaching home");
    assert!(z.position(slime).unwrap().within(home, Fixed::from_int(13)));
}

#[test]
fn the_same_seed_gives_the_same_fight() {
    let run = || {
        let mut z = arena(3);
        let mut clock = Clock(0);
        let slime = monster(&z);
        let spot = z.position(slime).unwrap() + Vec2::from_ints(2, 0);
        let p = z.spawn_player(PlayerId(1), Some(spot), 0, ms(0));
        clock.tick(&mut z);
        z.queue_combat(p, ClientCombat::Attack { target: slime }, Duration::ZERO);
        format!("{:?}", clock.ticks(&mut z, 300))
    };
    assert_eq!(run(), run());
}
