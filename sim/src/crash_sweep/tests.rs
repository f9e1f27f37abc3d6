//! The sweep under `cargo test`: every crash point of every kind against the
//! sound stores, and broken stores that the checks must catch.

use super::*;

/// The whole sweep (issue 19): 14 kinds x 10 crash points, no violation.
#[test]
fn every_crash_point_of_every_transaction_kind_keeps_the_economy_whole() {
    let report = sweep(&[], |p| {
        if !p.violations.is_empty() {
            println!("{p}");
        }
    });
    println!("{}", report.summary());
    assert_eq!(report.points.len(), Kind::ALL.len() * Point::all().len());
    assert_eq!(report.violations(), 0, "{}", report.summary());
    let c = report.checked();
    assert!(c.acks > 0 && c.ledger > 0 && c.items > 0 && c.trades > 0 && c.views > 0);
    // Each crash happened as its point says.
    for p in &report.points {
        let what = format!("{} {}", p.kind.label(), p.point.label());
        match p.point.who {
            Who::Node => assert_eq!(p.restarts, 1, "{what}"),
            Who::Store => assert_eq!(p.restarts, 0, "{what}"),
        }
        let store_crash = p.point.who == Who::Store
            && matches!(
                p.point.step,
                Step::BeforeSend | Step::AfterCommit | Step::OnRetry
            );
        assert_eq!(p.store_crashes, u64::from(store_crash), "{what}");
        if p.point.step == Step::OnRetry || p.point.who == Who::Store {
            assert!(p.node_retries >= 1, "{what}: the node retried");
        }
        if p.point == point(Who::Node, Step::InTransit) {
            assert_eq!(p.late_landed, 1, "{what}");
            // The next commit under its name met it: another transaction
            // (a conflict), or the same one decided again (a replay).
            assert!(
                p.conflicts + p.replays >= 1,
                "{what}: the late commit was met"
            );
        }
        if matches!(p.point.step, Step::AfterCommit | Step::DuringAck) && p.point.who == Who::Store
        {
            assert!(p.replays >= 1, "{what}: the retry was known as applied");
        }
    }
}

fn point(who: Who, step: Step) -> Point {
    Point { who, step }
}

fn caught(r: &PointReport, what: &str) -> bool {
    r.violations.iter().any(|v| v.contains(what))
}

#[test]
fn a_store_that_applies_a_retried_commit_again_is_caught() {
    let r = run_point(
        Kind::Buy,
        point(Who::Store, Step::DuringAck),
        Some(Bug::ApplyTwice),
    );
    println!("{r}");
    assert!(caught(&r, "applied twice"), "{r}");
    assert!(caught(&r, "the ledger's sources minus sinks"), "{r}");
}

#[test]
fn a_store_that_acknowledges_before_it_commits_is_caught() {
    let r = run_point(
        Kind::Trade,
        point(Who::Store, Step::AfterCommit),
        Some(Bug::AckBeforeCommit),
    );
    println!("{r}");
    assert!(caught(&r, "which the store never committed"), "{r}");
}

#[test]
fn a_store_that_knows_a_commit_by_its_name_and_receipt_alone_is_caught() {
    for kind in [Kind::Move, Kind::Trade] {
        let r = run_point(
            kind,
            point(Who::Node, Step::InTransit),
            Some(Bug::ReceiptOnlyReplay),
        );
        println!("{r}");
        assert!(
            caught(&r, "as another state than the store committed"),
            "{r}"
        );
    }
}

#[test]
fn a_crash_point_runs_the_same_every_time() {
    let a = run_point(Kind::Trade, point(Who::Node, Step::InTransit), None);
    let b = run_point(Kind::Trade, point(Who::Node, Step::InTransit), None);
    assert_eq!(format!("{a}"), format!("{b}"));
    assert_eq!(a.checked, b.checked);
}
