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
