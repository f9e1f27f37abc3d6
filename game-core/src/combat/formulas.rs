//! Damage and healing from stats, and the zone's seeded rolls for misses and
//! crits. Integers only, so every machine computes the same amounts.

use crate::content::{CombatRules, Skill, SkillEffect};
use crate::protocol::HitOutcome;
use crate::time::Duration;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

/// A skill's amount before the roll: its power plus its share of the
/// caster's power stat, and, for damage, reduced by the target's armor
/// (`armor` points halve damage at `armor == 100`: amount * 100 / (100 + armor)).
/// At least 1.
pub fn base_amount(
    skill_power: u32,
    scaling_pct: u32,
    caster_power: u32,
    armor: u32,
    damage: bool,
) -> u32 {
    let raw = skill_power as u64 + caster_power as u64 * scaling_pct as u64 / 100;
    let amount = if damage {
        raw * 100 / (100 + armor as u64)
    } else {
        raw
    };
    amount.clamp(1, u32::MAX as u64) as u32
}

/// Draws the outcome of one hit from the zone's stream: heals never miss.
/// Always draws once, so the stream advances the same way whatever the skill.
pub fn roll(rng: &mut ChaCha8Rng, rules: &CombatRules, effect: SkillEffect) -> HitOutcome {
    let r = (rng.next_u32() % 100) as u8;
    if effect == SkillEffect::Damage && r < rules.miss_pct {
        HitOutcome::Miss
    } else if r >= 100 - rules.crit_pct.min(100) {
        HitOutcome::Critical
    } else {
        HitOutcome::Normal
    }
}

/// The amount a hit carries after its roll.
pub fn rolled(amount: u32, outcome: HitOutcome, rules: &CombatRules) -> u32 {
    match outcome {
        HitOutcome::Normal => amount,
        HitOutcome::Critical => {
            (amount as u64 * rules.crit_damage_pct as u64 / 100).min(u32::MAX as u64) as u32
        }
        HitOutcome::Miss => 0,
    }
}

/// One hit of `skill` from a caster with `caster_power` on a target with
/// `armor`: the roll and the amount.
pub fn hit(
    rng: &mut ChaCha8Rng,
    rules: &CombatRules,
    skill: &Skill,
    power: u32,
    caster_power: u32,
    armor: u32,
) -> (HitOutcome, u32) {
    let damage = skill.effect == SkillEffect::Damage;
    let outcome = roll(rng, rules, skill.effect);
    let base = base_amount(power, skill.scaling_pct, caster_power, armor, damage);
    (outcome, rolled(base, outcome, rules))
}

/// Whole ticks of `period` in `ms` milliseconds, rounded up (a cooldown is
/// never shorter than its content says).
pub fn ticks(ms: u32, period: Duration) -> u64 {
    let period = period.as_micros().max(1);
    (ms as u64 * 1000).div_ceil(period)
}

/// Threat from an amount of damage or healing.
pub fn threat(amount: u32, threat_pct: u32) -> u64 {
    amount as u64 * threat_pct as u64 / 100
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, StreamKind};

    fn rules() -> CombatRules {
        CombatRules {
            global_cooldown_ms: 1000,
            miss_pct: 5,
            crit_pct: 10,
            crit_damage_pct: 150,
            regen_period_ms: 2000,
            health_regen_pct: 2,
            mana_regen_pct: 4,
            respawn_delay_ms: 5000,
            combat_timeout_ms: 6000,
        }
    }

    #[test]
    fn armor_reduces_damage_not_healing() {
        assert_eq!(base_amount(50, 100, 50, 0, true), 100);
        assert_eq!(base_amount(50, 100, 50, 100, true), 50);
        assert_eq!(base_amount(50, 100, 50, 100, false), 100);
        assert_eq!(base_amount(0, 0, 0, 500, true), 1, "at least one");
        assert_eq!(base_amount(u32::MAX, 100, u32::MAX, 0, false), u32::MAX);
    }

    #[test]
    fn rolls_follow_the_rules_and_the_seed() {
        let mut rng = stream(7, StreamKind::Zone, 1);
        let (mut miss, mut crit) = (0, 0);
        for _ in 0..10_000 {
            match roll(&mut rng, &rules(), SkillEffect::Damage) {
                HitOutcome::Miss => miss += 1,
                HitOutcome::Critical => crit += 1,
                HitOutcome::Normal => {}
            }
        }
        assert!((400..600).contains(&miss), "{miss}");
        assert!((850..1150).contains(&crit), "{crit}");
        let mut a = stream(7, StreamKind::Zone, 1);
        let mut b = stream(7, StreamKind::Zone, 1);
        for _ in 0..100 {
            assert_eq!(
                roll(&mut a, &rules(), SkillEffect::Heal),
                roll(&mut b, &rules(), SkillEffect::Heal)
            );
        }
        let mut rng = stream(7, StreamKind::Zone, 2);
        assert!((0..1000).all(|_| roll(&mut rng, &rules(), SkillEffect::Heal) != HitOutcome::Miss));
        assert_eq!(rolled(100, HitOutcome::Critical, &rules()), 150);
        assert_eq!(rolled(100, HitOutcome::Miss, &rules()), 0);
    }

    #[test]
    fn ticks_round_up() {
        let p = Duration::per_second(20);
        assert_eq!(ticks(0, p), 0);
        assert_eq!(ticks(1, p), 1);
        assert_eq!(ticks(50, p), 1);
        assert_eq!(ticks(51, p), 2);
        assert_eq!(ticks(2000, p), 40);
    }
}
