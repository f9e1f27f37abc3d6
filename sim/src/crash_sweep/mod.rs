//! The crash sweep (issue 19): every kind of economy transaction, with the
//! node or the store crashing at each step of it in turn, and then the
//! checks that make the economy trustworthy.
//!
//! For each [`Kind`] a scenario (`scenario.rs`) sets up one or two scripted
//! players (`bots.rs`: trading, shopping, enhancing, claiming, ...) and an
//! operator, lets them reach a starting state with nothing failing, then
//! arms one crash [`Point`]: the first transaction of that kind sent to the
//! store after that meets the crash at that step (`world.rs`). Then the
//! world settles: clients reconnect, bots judge from what they are shown
//! whether what they asked for happened and ask again if not, the node
//! retries, the store comes back. Then `checks.rs`: every item id exists at
//! most once; each item kind's total and the gold total equal the ledger's
//! sources minus sinks; every acknowledged change (`Changed`) is a state
//! the store committed, and is still there or built on; no transaction was
//! applied twice and no stored sequence number went back; each trade moved
//! both sides or neither; the node, each client and the store agree; and
//! the scenario's own "exactly once" (one purchase, one attempt paid, ...).
//!
//! Deterministic: the same build prints the same figures. `crash-sweep`
//! (the binary) prints one line per crash point and the total; the sim
//! crate's tests run the whole sweep under `cargo test`.

mod bots;
mod checks;
mod scenario;
mod store;
#[cfg(test)]
mod tests;
mod world;

pub use checks::Checked;
pub use store::Bug;

use bots::Stage;
use game_core::time::Duration;
use world::{Plan, World};

/// A kind of economy transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An operator's grant.
    Grant,
    /// A kill's loot.
    Loot,
    Buy,
    Sell,
    Move,
    Split,
    Delete,
    Equip,
    Unequip,
    Sort,
    /// An enhancement attempt.
    Enhance,
    /// A battle pass mission's completion (after an enhancement).
    Mission,
    /// A battle pass level's reward.
    Claim,
    /// Two players' swap, one two-part transaction.
    Trade,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Grant,
        Kind::Loot,
        Kind::Buy,
        Kind::Sell,
        Kind::Move,
        Kind::Split,
        Kind::Delete,
        Kind::Equip,
        Kind::Unequip,
        Kind::Sort,
        Kind::Enhance,
        Kind::Mission,
        Kind::Claim,
        Kind::Trade,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Grant => "grant",
            Kind::Loot => "loot",
            Kind::Buy => "buy",
            Kind::Sell => "sell",
            Kind::Move => "move",
            Kind::Split => "split",
            Kind::Delete => "delete",
            Kind::Equip => "equip",
            Kind::Unequip => "unequip",
            Kind::Sort => "sort",
            Kind::Enhance => "enhance",
            Kind::Mission => "mission",
            Kind::Claim => "claim",
            Kind::Trade => "trade",
        }
    }

    pub fn from_label(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.label() == s)
    }
}

/// Who crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    Node,
    Store,
}

/// The step of the transaction the crash falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Node: it crashes with the transaction decided, before the commit
    /// leaves. Store: it is down when the commit arrives (lost, unanswered).
    BeforeSend,
    /// Node: it crashes with the commit on the wire, which lands after the
    /// restarted node loaded the inventory again. Store: the commit fails
    /// (answered `Unavailable`, nothing applied).
    InTransit,
    /// The store committed; then the node crashes before the answer
    /// arrives, or the store crashes before sending it.
    AfterCommit,
    /// Node: it crashes right after taking the answer, before its `Changed`
    /// reaches the player. Store: the answer is lost on the way.
    DuringAck,
    /// The first try fails; node: it crashes as it sends the retry (never
    /// arrives); store: it commits the retry and crashes before answering.
    OnRetry,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::BeforeSend,
        Step::InTransit,
        Step::AfterCommit,
        Step::DuringAck,
        Step::OnRetry,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Step::BeforeSend => "before-send",
            Step::InTransit => "in-transit",
            Step::AfterCommit => "after-commit",
            Step::DuringAck => "during-ack",
            Step::OnRetry => "on-retry",
        }
    }
}

/// One crash point: who crashes, at which step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub who: Who,
    pub step: Step,
}

impl Point {
    /// Every point: each step, the node crashing and the store crashing.
    pub fn all() -> Vec<Point> {
        [Who::Node, Who::Store]
            .into_iter()
            .flat_map(|who| Step::ALL.into_iter().map(move |step| Point { who, step }))
            .collect()
    }

    pub fn label(self) -> String {
        let who = match self.who {
            Who::Node => "node",
            Who::Store => "store",
        };
        format!("{who} {}", self.step.label())
    }
}

/// How one crash point went.
#[derive(Clone, Debug)]
pub struct PointReport {
    pub kind: Kind,
    pub point: Point,
    pub violations: Vec<String>,
    pub checked: Checked,
    pub restarts: u64,
    pub store_crashes: u64,
    pub node_retries: u64,
    pub conflicts: u64,
    pub replays: u64,
    /// Commits held on the wire by a node crash that landed later.
    pub late_landed: u64,
    /// Virtual time from arming the crash to the world settled.
    pub settled_ms: u64,
}

impl std::fmt::Display for PointReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.checked;
        write!(
            f,
            "{:<8} {:<18} {:<4} acks {:>2}  ledger {:>2}  items {:>2}  restarts {}  store crashes {}  retries {}  conflicts {}  replays {}  settled {:>5} ms",
            self.kind.label(),
            self.point.label(),
            if self.violations.is_empty() { "ok" } else { "FAIL" },
            c.acks,
            c.ledger,
            c.items,
            self.restarts,
            self.store_crashes,
            self.node_retries,
            self.conflicts,
            self.replays,
            self.settled_ms,
        )?;
        for v in &self.violations {
            write!(f, "\n    violation: {v}")?;
        }
        Ok(())
    }
}

/// The seed of every sweep world (the sweep is exhaustive, not random: the
/// seed only fixes the node's own streams, such as enhancement rolls).
pub const SEED: u64 = 19;
/// A crash point's world must settle within this much virtual time.
const SETTLE_WITHIN: Duration = Duration::from_secs(90);
/// The world is looked at (and the bots act) this often.
const STEP: Duration = Duration::from_millis(50);
/// Settled means settled for this long.
const SETTLED_FOR: Duration = Duration::from_secs(1);

/// Runs one crash point of one kind, against a sound store or a broken one.
pub fn run_point(kind: Kind, point: Point, bug: Option<Bug>) -> PointReport {
    let sc = scenario::build(kind);
    let mut w = World::new(sc.content, SEED, Plan::new(point, sc.pick), bug);
    for name in &sc.players {
        w.join(name);
    }
    let (mut bots, mut operator) = (sc.bots, sc.operator);
    let mut violations = Vec::new();
    let mut armed_at = None;
    let mut granted = false;
    let mut settled_since = None;
    loop {
        let end = w.now + STEP;
        w.advance_to(end);
        let armed = w.plan.armed;
        operator.step(&mut w, armed);
        let stage = if armed {
            Stage::Armed
        } else if granted {
            Stage::BotSetup
        } else {
            Stage::Grants
        };
        for b in &mut bots {
            b.step(&mut w, stage);
        }
        w.pump();
        let Some(since) = armed_at else {
            let quiet = w.quiet() && w.all_in_world();
            granted = granted || (quiet && operator.set_up());
            let ready = quiet && granted && bots.iter().all(|b| b.set_up());
            if ready {
                w.plan.actors = w.peers[..sc.actors]
                    .iter()
                    .filter_map(|p| p.character)
                    .collect();
                w.plan.armed = true;
                armed_at = Some(w.now);
            } else if w.now > game_core::time::Instant::ZERO + SETTLE_WITHIN {
                violations.push("the scenario never reached its starting state".into());
                break;
            }
            continue;
        };
        let settled = w.plan.spent()
            && w.quiet()
            && w.all_in_world()
            && operator.done()
            && bots.iter().all(|b| b.done(&w));
        if !settled {
            settled_since = None;
        } else if settled_since.is_none() {
            settled_since = Some(w.now);
        }
        if settled_since.is_some_and(|s| w.now >= s + SETTLED_FOR) {
            break;
        }
        if w.now > since + SETTLE_WITHIN {
            violations.push(if !w.plan.fired {
                format!("the crash point was never reached ({} never sent)", kind.label())
            } else {
                format!(
                    "did not settle in {} s: crash spent {}, store quiet {}, all in world {}, operator done {}, bots done {:?}",
                    SETTLE_WITHIN.as_micros() / 1_000_000,
                    w.plan.spent(),
                    w.quiet(),
                    w.all_in_world(),
                    operator.done(),
                    bots.iter().map(|b| b.done(&w)).collect::<Vec<_>>()
                )
            });
            break;
        }
    }
    let checked = checks::check(&w, &mut violations);
    violations.extend((sc.expect)(&w));
    violations.extend(operator.failures.iter().cloned());
    for b in &bots {
        violations.extend(b.unexpected.iter().cloned());
    }
    PointReport {
        kind,
        point,
        violations,
        checked,
        restarts: w.counts.restarts,
        store_crashes: w.counts.store_crashes,
        node_retries: w.node_retries(),
        conflicts: w.store.conflicts,
        replays: w.store.replays,
        late_landed: w.counts.late_landed,
        settled_ms: armed_at.map_or(0, |a| (w.now.as_micros() - a.as_micros()) / 1_000),
    }
}

/// The whole sweep: every kind, every point.
#[derive(Clone, Debug)]
pub struct SweepReport {
    pub points: Vec<PointReport>,
    pub kinds: usize,
    pub points_per_kind: usize,
}

impl SweepReport {
    pub fn violations(&self) -> usize {
        self.points.iter().map(|p| p.violations.len()).sum()
    }

    pub fn failed_points(&self) -> usize {
        self.points
            .iter()
            .filter(|p| !p.violations.is_empty())
            .count()
    }

    pub fn checked(&self) -> Checked {
        let mut c = Checked::default();
        for p in &self.points {
            c.add(&p.checked);
        }
        c
    }

    /// The one line that sums it up.
    pub fn summary(&self) -> String {
        let c = self.checked();
        format!(
            "crash sweep: {} kinds x {} points = {} crash points, {} violations ({} points failed); checked {} acks, {} ledger entries, {} items, {} totals, {} trades, {} views",
            self.kinds,
            self.points_per_kind,
            self.points.len(),
            self.violations(),
            self.failed_points(),
            c.acks,
            c.ledger,
            c.items,
            c.totals,
            c.trades,
            c.views,
        )
    }
}

/// Runs every point of every kind in `kinds` (all when empty); `each` sees
/// each point's report as it ends.
pub fn sweep(kinds: &[Kind], mut each: impl FnMut(&PointReport)) -> SweepReport {
    let kinds: Vec<Kind> = if kinds.is_empty() {
        Kind::ALL.to_vec()
    } else {
        kinds.to_vec()
    };
    let points = Point::all();
    let mut reports = Vec::new();
    for &kind in &kinds {
        for &point in &points {
            let r = run_point(kind, point, None);
            each(&r);
            reports.push(r);
        }
    }
    SweepReport {
        points: reports,
        kinds: kinds.len(),
        points_per_kind: points.len(),
    }
}
