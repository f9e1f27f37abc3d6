//! The simulator itself: a run is a pure function of its seed, different seeds
//! differ, and small swarm runs hold every invariant. (The seed sweep and the
//! regression list run in release from `.ci/run`; see `sim/regression-seeds.txt`.)

use sim::simulator::{FaultMode, SimConfig, SimReport, Simulator};

fn run(bots: usize, seconds: u64, seed: u64, faults: FaultMode) -> SimReport {
    let config = SimConfig::new(bots, seconds, seed, faults);
    let repro = config.repro();
    let report = Simulator::new(config).run(|_| {});
    assert_eq!(
        report.invariant_violations, 0,
        "violations: {:#?}\nreproduce with: {repro}",
        report.violations
    );
    report
}

#[test]
fn the_same_seed_gives_the_same_trace_hash() {
    let a = run(40, 25, 7, FaultMode::Swarm);
    let b = run(40, 25, 7, FaultMode::Swarm);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.events, b.events);
    // Combat is in the hash: fighters are in the default mix, and fought.
    assert!(
        a.fighters.bots > 0 && a.fighters.tally.hits > 0,
        "{:?}",
        a.fighters
    );
    assert_eq!(a.fighters.tally, b.fighters.tally);
    assert_eq!(a.server_combat, b.server_combat);
    assert_eq!(a.disconnects, b.disconnects);
    let c = run(40, 25, 8, FaultMode::Swarm);
    assert_ne!(a.trace_hash, c.trace_hash, "another seed, another run");
}

#[test]
fn a_lossy_run_corrects_hostile_bots_and_never_honest_ones() {
    let mut config = SimConfig::new(60, 30, 11, FaultMode::Lossy);
    config.hostile_pct = 30;
    let report = Simulator::new(config).run(|_| {});
    assert_eq!(report.invariant_violations, 0, "{:#?}", report.violations);
    assert!(report.hostile_bots > 0);
    assert!(report.corrections_hostile > 0);
    assert_eq!(report.corrections_honest, 0);
    assert!(report.interpolation_error_m.samples > 0);
}

/// Fighters hunt, kill and level up; brawlers are refused for every kind of
/// bad request; every combat invariant holds, and no honest bot is
/// disturbed (the verdicts of `run`).
#[test]
fn fighters_level_up_and_brawlers_are_refused() {
    use sim::policy::Kind;
    let mut levels = 0;
    for seed in [1, 4] {
        let mut config = SimConfig::new(60, 60, seed, FaultMode::Swarm);
        config.honest = vec![Kind::Fighter];
        config.hostile = vec![Kind::Brawler];
        config.hostile_pct = 20;
        let repro = config.repro();
        let r = Simulator::new(config).run(|_| {});
        assert_eq!(r.invariant_violations, 0, "{:#?}\n{repro}", r.violations);
        let (f, b) = (&r.fighters.tally, &r.brawlers.tally);
        assert!(r.fighters.bots > 30 && r.brawlers.bots > 0, "{repro}");
        assert!(f.kills > 0, "fighters killed nothing: {f:?}");
        assert!(f.experience > 0 && f.hits > 0, "{f:?}");
        levels += f.levels_gained;
        // The server saw the kills the fighters heard of (it counts others').
        assert!(r.server_combat.monsters_killed >= f.kills);
        // Honest bookkeeping: a cooldown refusal is a rare race at most.
        let early = ["on_cooldown", "global_cooldown", "casting"]
            .iter()
            .filter_map(|k| f.refusals.get(k))
            .sum::<u64>();
        assert!(early * 50 <= f.skills_sent, "{f:?}");
        // Brawlers were refused, for many reasons, and the zones counted it.
        for reason in ["unknown_skill", "not_visible", "invalid_target", "too_fast"] {
            assert!(
                b.refusals.get(reason).is_some_and(|&n| n > 0),
                "{reason}: {b:?}"
            );
            assert!(r.server_combat.refusals[reason] >= b.refusals[reason]);
        }
        assert!(r.combat_checks.hits_checked > 0 && r.combat_checks.mana_checks > 0);
    }
    assert!(levels > 0, "no fighter gained a level");
}

/// Traders (and fighters beside them) for a minute and a half: they earn
/// from loot, spend, equip, claim and trade; every economy invariant holds
/// (one of each item, the books, nothing shown before it is stored, each
/// transaction applied once), and the same seed gives the same economy.
#[test]
fn traders_earn_spend_and_trade_and_the_books_balance() {
    use sim::policy::Kind;
    let run = || {
        let mut config = SimConfig::new(40, 90, 3, FaultMode::Clean);
        config.honest = vec![Kind::Trader, Kind::Trader, Kind::Fighter];
        config.hostile_pct = 0;
        let repro = config.repro();
        let r = Simulator::new(config).run(|_| {});
        assert_eq!(
            r.invariant_violations, 0,
            "violations: {:#?}\nreproduce with: {repro}",
            r.violations
        );
        r
    };
    let a = run();
    let t = &a.traders;
    assert!(t.bots > 20, "{t:?}");
    assert!(t.fight.kills > 0 && t.tally.loot_gold > 0, "{t:?}");
    for label in ["buy", "equip", "claim", "trade_offer", "trade_confirm"] {
        assert!(t.tally.sent.contains_key(label), "no {label}: {t:?}");
    }
    assert!(
        t.tally.changed > 0 && t.tally.trade_ends.contains_key("done"),
        "{t:?}"
    );
    let k = &a.economy.checks;
    assert!(k.shown_compared > 0 && k.views_at_rest > 0, "{k:?}");
    assert_eq!(k.tx_applied, a.economy.node.committed, "{:?}", a.economy);
    let b = run();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.traders.tally, b.traders.tally);
}

/// Raiders for two minutes and a half: they queue (some as parties),
/// accept, fight the bear, dodge, win or wipe, claim their rewards and drop
/// inside; every raid invariant holds (one place each, no ticket lost,
/// spreads within the rule, no instance outliving its players, rewards
/// once), and the same seed gives the same raids.
#[test]
fn raiders_queue_fight_and_are_rewarded_once() {
    use sim::policy::Kind;
    let run = || {
        let mut config = SimConfig::new(60, 150, 1, FaultMode::Clean);
        config.honest = vec![Kind::Raider];
        config.hostile_pct = 0;
        let repro = config.repro();
        let r = Simulator::new(config).run(|_| {});
        assert_eq!(
            r.invariant_violations, 0,
            "violations: {:#?}\nreproduce with: {repro}",
            r.violations
        );
        r
    };
    let a = run();
    let (n, t) = (&a.raids.node, &a.raids.tally);
    assert_eq!(a.raids.bots, 60);
    assert!(n.matches > 5 && n.instances_opened == n.matches, "{n:?}");
    assert!(n.instances_closed > 0 && n.victories + n.wipes > 0, "{n:?}");
    assert!(
        t.party_queues > 0 && t.accepted > 0 && t.dodges > 0,
        "{t:?}"
    );
    assert!(a.raids.fight.hits > 0, "{:?}", a.raids.fight);
    let settled = n.rewards_claimed + n.rewards_given_at_close + n.rewards_lost;
    assert!(settled <= n.rewards_owed, "{n:?}");
    let k = &a.raids.checks;
    assert!(k.matches_checked == n.matches && k.tickets > 0, "{k:?}");
    assert_eq!(k.owed_seen, n.rewards_owed, "{k:?}");
    let b = run();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.raids.tally, b.raids.tally);
}
