//! The combat checks catch what they are for: each fed a fabricated tick
//! that breaks one rule, beside the same tick done right.

use super::combat::{CombatChecker, FighterSnap, TickView};
use game_core::content::Content;
use game_core::ids::{EntityId, ZoneId};
use game_core::math::Vec2;
use game_core::protocol::{CombatEvent, HitOutcome};
use game_core::zone::MovementRules;

const P: EntityId = EntityId(1);
const M: EntityId = EntityId(2);
// Sample skill ids.
const ATTACK: u16 = 0;
const FIREBOLT: u16 = 1;
const IGNITE: u16 = 5;
const HAMMER: u16 = 6;
const FROST_SHOT: u16 = 7;

fn snap(entity: EntityId, player: bool, x: i32) -> FighterSnap {
    FighterSnap {
        entity,
        player,
        pos: Vec2::from_ints(x, 0),
        health: 100,
        max_health: 100,
        mana: 100,
        max_mana: 100,
        level: 1,
        experience: 0,
        placed: 0,
    }
}

fn hit(source: EntityId, target: EntityId, skill: u16) -> CombatEvent {
    CombatEvent::Hit {
        source,
        target,
        skill,
        amount: 5,
        outcome: HitOutcome::Normal,
    }
}

struct Run {
    content: Content,
    checker: CombatChecker,
    /// The raid boss whose area attack lands at the next tick fed.
    area_by: Option<EntityId>,
}

impl Run {
    fn new() -> Self {
        let content = Content::sample();
        let checker = CombatChecker::new(20, 200, &MovementRules::default(), &content);
        Run {
            content,
            checker,
            area_by: None,
        }
    }

    /// Feeds one tick; returns what it found.
    fn tick(&mut self, tick: u64, fighters: &[FighterSnap], events: &[CombatEvent]) -> Vec<String> {
        self.tick_xp(tick, fighters, events, (0, 0))
    }

    fn tick_xp(
        &mut self,
        tick: u64,
        fighters: &[FighterSnap],
        events: &[CombatEvent],
        (granted, of_kills): (u64, u64),
    ) -> Vec<String> {
        let view = TickView {
            zone: ZoneId(1),
            tick,
            fighters,
            events,
            experience_granted: granted,
            experience_of_kills: of_kills,
            area_by: self.area_by.take(),
        };
        let mut failures = Vec::new();
        self.checker.check(&self.content, &view, &mut failures);
        failures
    }
}

fn pair() -> [FighterSnap; 2] {
    [snap(P, true, 0), snap(M, false, 2)]
}

#[test]
fn values_out_of_bounds_are_caught() {
    let mut r = Run::new();
    assert!(r.tick(1, &pair(), &[]).is_empty());
    let mut f = pair();
    f[0].health = 101;
    assert_eq!(r.tick(2, &f, &[]).len(), 1);
    let mut f = pair();
    f[1].mana = 101;
    assert_eq!(r.tick(3, &f, &[]).len(), 1);
}

#[test]
fn the_dead_never_act_but_their_wounds_pulse() {
    let mut r = Run::new();
    let mut dead = pair();
    dead[0].health = 0;
    assert!(r.tick(1, &dead, &[]).is_empty());
    // A wound the dead player left on the monster pulses: allowed.
    let pulse = [hit(P, M, IGNITE)];
    assert!(r.tick(2, &dead, &pulse).is_empty());
    // A swing of the dead: caught.
    let found = r.tick(3, &dead, &[hit(P, M, ATTACK)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("dead"));
    let cast = CombatEvent::CastStarted {
        caster: P,
        skill: FIREBOLT,
        target: Some(M),
        cast_ms: 1500,
    };
    // (The global cooldown from the ignite at tick 2 is long over.)
    assert!(r.tick(39, &dead, &[]).is_empty());
    let found = r.tick(40, &dead, &[cast]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("dead"));
    // Alive at the end of the tick before: the same swing is fine.
    assert!(r.tick(80, &pair(), &[]).is_empty());
    assert!(r.tick(81, &pair(), &[hit(P, M, ATTACK)]).is_empty());
}

#[test]
fn a_hit_from_beyond_reach_is_caught() {
    let mut r = Run::new();
    // The attack reaches 3 m; a monster moves ~1.4 m in 200 ms and a tick.
    assert!(r.tick(1, &pair(), &[hit(P, M, ATTACK)]).is_empty());
    let far = [snap(P, true, 0), snap(M, false, 8)];
    let found = r.tick(2, &far, &[hit(M, P, 8)]);
    assert!(found.is_empty(), "a monster's slam from 8 m? {found:?}");
    let found = r.tick(100, &far, &[hit(P, M, ATTACK)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("from 8.00 m"));
}

#[test]
fn cooldowns_and_the_global_cooldown_are_held_to() {
    let mut r = Run::new();
    let f = pair();
    assert!(r.tick(1, &f, &[hit(P, M, HAMMER)]).is_empty());
    // Hammer's cooldown is 15 s (300 ticks): again at tick 101 is early.
    let found = r.tick(101, &f, &[hit(P, M, HAMMER)]);
    assert!(
        found.iter().any(|f| f.contains("cooldown of 300")),
        "{found:?}"
    );
    // Frost shot 5 ticks after a global-cooldown skill: early (20 ticks).
    let found = r.tick(106, &f, &[hit(P, M, FROST_SHOT)]);
    assert!(
        found.iter().any(|f| f.contains("global cooldown")),
        "{found:?}"
    );
    // Far apart: fine.
    assert!(r.tick(500, &f, &[hit(P, M, HAMMER)]).is_empty());
    // A cast's cooldown starts when it lands; firebolt has none, so a new
    // cast right after is fine once the global cooldown is over.
    let start = CombatEvent::CastStarted {
        caster: P,
        skill: FIREBOLT,
        target: Some(M),
        cast_ms: 1500,
    };
    assert!(r.tick(600, &f, &[start]).is_empty());
    let found = r.tick(610, &f, &[start]);
    assert!(
        found.iter().any(|f| f.contains("global cooldown")),
        "{found:?}"
    );
}

#[test]
fn a_use_that_costs_mana_must_lower_it() {
    let mut r = Run::new();
    assert!(r.tick(1, &pair(), &[]).is_empty());
    let mut paid = pair();
    paid[0].mana = 90;
    // Frost shot costs 10: paid.
    assert!(r.tick(2, &paid, &[hit(P, M, FROST_SHOT)]).is_empty());
    // Used again 100 ticks on with no drop in mana (tick 101 is no
    // regeneration tick: those come every 40).
    assert!(r.tick(100, &paid, &[]).is_empty());
    let found = r.tick(101, &paid, &[hit(P, M, FROST_SHOT)]);
    assert!(
        found.iter().any(|f| f.contains("spent 10 mana")),
        "{found:?}"
    );
}

#[test]
fn experience_must_match_the_kills() {
    let mut r = Run::new();
    assert!(r.tick_xp(1, &pair(), &[], (0, 0)).is_empty());
    let mut rich = pair();
    rich[0].experience = 20;
    assert!(r.tick_xp(2, &rich, &[], (20, 20)).is_empty());
    // Granted more than the kills were worth.
    let found = r.tick_xp(3, &rich, &[], (25, 20));
    assert!(found.iter().any(|f| f.contains("granted 25")), "{found:?}");
    // A player gained experience the zone did not grant.
    rich[0].experience = 70;
    let found = r.tick_xp(4, &rich, &[], (25, 25));
    assert!(found.iter().any(|f| f.contains("gained 50")), "{found:?}");
}

#[test]
fn a_slot_taken_by_someone_placed_after_the_tick_is_not_compared_with_its_last_holder() {
    let mut r = Run::new();
    assert!(r.tick_xp(1, &pair(), &[], (0, 0)).is_empty());
    // P left; another player, richer, was moved into its slot after the
    // zone's tick (a raid instance closing): no experience was gained.
    let mut other = pair();
    other[0].experience = 250;
    other[0].placed = 2;
    assert!(r.tick_xp(2, &other, &[], (0, 0)).is_empty());
    // The same player, placed as before, who gained unearned experience.
    let mut rich = other;
    rich[0].experience = 300;
    assert_eq!(r.tick_xp(3, &rich, &[], (0, 0)).len(), 1);
}

#[test]
fn a_raid_boss_area_attack_is_no_use_of_its_first_skill() {
    let mut r = Run::new();
    let f = pair();
    // M mauls (skill 13, 2 s cooldown: 40 ticks) at tick 1; its area attack
    // lands at tick 10 on a player far off, named with the same skill.
    const MAUL: u16 = 13;
    assert!(r.tick(1, &f, &[hit(M, P, MAUL)]).is_empty());
    let far = [snap(P, true, 0), snap(M, false, 12)];
    r.area_by = Some(M);
    assert!(r.tick(10, &far, &[hit(M, P, MAUL)]).is_empty());
    assert_eq!(r.checker.counts.area_hits, 1);
    // The same hit on a tick no area attack landed: early, and out of reach.
    let found = r.tick(11, &far, &[hit(M, P, MAUL)]);
    assert_eq!(found.len(), 2, "{found:?}");
}
