//! The grid against an all-pairs model, plus the hysteresis edges, the cost bound
//! and the removal rules one by one.

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn e(n: u64) -> EntityId {
    EntityId(n)
}

fn vis(aoi: &Aoi, id: EntityId) -> Vec<EntityId> {
    aoi.visible(id).collect()
}

fn m(x: i32, y: i32) -> Vec2 {
    Vec2::from_ints(x, y)
}

fn config(radius: i32, margin: i32) -> AoiConfig {
    AoiConfig {
        radius: Fixed::from_int(radius),
        margin: Fixed::from_int(margin),
    }
}

fn enter(observer: u64, target: u64) -> AoiEvent {
    AoiEvent::Enter {
        observer: e(observer),
        target: e(target),
    }
}

fn leave(observer: u64, target: u64) -> AoiEvent {
    AoiEvent::Leave {
        observer: e(observer),
        target: e(target),
    }
}

fn update(aoi: &mut Aoi) -> Vec<AoiEvent> {
    let mut events = Vec::new();
    aoi.update(&mut events);
    events
}

/// The model's own distance rule, in i128 so it shares nothing with the
/// AOI's saturating arithmetic.
fn within(a: Vec2, b: Vec2, radius: Fixed) -> bool {
    let dx = a.x.raw() as i128 - b.x.raw() as i128;
    let dy = a.y.raw() as i128 - b.y.raw() as i128;
    let r = radius.raw() as i128;
    dx * dx + dy * dy <= r * r
}

/// The specification: every pair re-decided by the hysteresis rule on each update.
struct Model {
    config: AoiConfig,
    pos: BTreeMap<EntityId, Vec2>,
    /// Visible pairs as `(low, high)`.
    pairs: BTreeSet<(EntityId, EntityId)>,
    /// Removed since the last update.
    removed: BTreeSet<EntityId>,
}

impl Model {
    fn new(config: AoiConfig) -> Self {
        Model {
            config,
            pos: BTreeMap::new(),
            pairs: BTreeSet::new(),
            removed: BTreeSet::new(),
        }
    }

    fn update(&mut self) -> Vec<AoiEvent> {
        let (r, rm) = (self.config.radius, self.config.radius + self.config.margin);
        let mut events = Vec::new();
        let mut next = BTreeSet::new();
        let ids: Vec<EntityId> = self.pos.keys().copied().collect();
        for (i, &a) in ids.iter().enumerate() {
            for &b in &ids[i + 1..] {
                let (pa, pb) = (self.pos[&a], self.pos[&b]);
                let was = self.pairs.contains(&(a, b));
                let now = if was {
                    within(pa, pb, rm)
                } else {
                    within(pa, pb, r)
                };
                if now {
                    next.insert((a, b));
                }
                if now && !was {
                    events.push(AoiEvent::Enter {
                        observer: a,
                        target: b,
                    });
                    events.push(AoiEvent::Enter {
                        observer: b,
                        target: a,
                    });
                }
            }
        }
        for &(a, b) in &self.pairs {
            if next.contains(&(a, b)) {
                continue;
            }
            // Only live entities hear of it.
            for (observer, target) in [(a, b), (b, a)] {
                if self.pos.contains_key(&observer) {
                    events.push(AoiEvent::Leave { observer, target });
                }
            }
        }
        self.pairs = next;
        self.removed.clear();
        events.sort_unstable_by_key(|e| e.sort_key());
        events
    }

    fn visible(&self, id: EntityId) -> Vec<EntityId> {
        let mut out: Vec<EntityId> = self
            .pairs
            .iter()
            .filter_map(|&(a, b)| match () {
                _ if a == id => Some(b),
                _ if b == id => Some(a),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out
    }
}

/// Every event ever emitted, checked for alternation per (observer, target).
#[derive(Default)]
struct Ledger {
    open: BTreeSet<(EntityId, EntityId)>,
    enters: usize,
}

impl Ledger {
    /// `removed` are the entities whose removal this update processed.
    fn record(&mut self, events: &[AoiEvent], removed: &BTreeSet<EntityId>) {
        for ev in events {
            let key = (ev.observer(), ev.target());
            match ev {
                AoiEvent::Enter { .. } => {
                    assert!(self.open.insert(key), "two enters in a row: {ev:?}");
                    self.enters += 1;
                }
                AoiEvent::Leave { .. } => {
                    assert!(self.open.remove(&key), "leave without enter: {ev:?}");
                }
            }
        }
        // A removed entity's own view goes with it; nobody may still see it.
        self.open.retain(|(o, _)| !removed.contains(o));
        for (o, t) in &self.open {
            assert!(!removed.contains(t), "{o} still sees removed {t}");
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u64, Vec2),
    Step(u64, Vec2),
    Teleport(u64, Vec2),
    Remove(u64),
    Update,
}

const IDS: u64 = 30;

/// Whole metres half the time, so exact-boundary distances (3-4-5) come up.
fn coord(lo: i32, hi: i32) -> impl Strategy<Value = Fixed> {
    (lo..=hi, prop_oneof![Just(0), 0..256i32]).prop_map(|(w, f)| Fixed::from_raw(w * 256 + f))
}

/// Anywhere, up to 100 m outside the 0..400 bounds (clamped into the edge
/// cells), or in a crowd in the middle, so pairs meet often.
fn world_pos() -> impl Strategy<Value = Vec2> {
    prop_oneof![
        (coord(-100, 500), coord(-100, 500)),
        (coord(150, 250), coord(150, 250)),
    ]
    .prop_map(|(x, y)| Vec2::new(x, y))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..IDS, world_pos()).prop_map(|(i, p)| Op::Insert(i, p)),
        6 => (0..IDS, coord(-15, 15), coord(-15, 15)).prop_map(|(i, x, y)| Op::Step(i, Vec2::new(x, y))),
        // Steps shorter than the skin (10 m here), so entities drift back and
        // forth without making their near lists again.
        6 => (0..IDS, coord(-4, 4), coord(-4, 4)).prop_map(|(i, x, y)| Op::Step(i, Vec2::new(x, y))),
        1 => (0..IDS, world_pos()).prop_map(|(i, p)| Op::Teleport(i, p)),
        1 => (0..IDS).prop_map(Op::Remove),
        2 => Just(Op::Update),
    ]
}

fn check_against_model(aoi: &mut Aoi, model: &mut Model, ledger: &mut Ledger) {
    let removed = model.removed.clone();
    let expected = model.update();
    let mut got = vec![leave(u64::MAX, 0)];
    aoi.update(&mut got);
    assert_eq!(got[0], leave(u64::MAX, 0), "update touched earlier events");
    assert_eq!(&got[1..], &expected[..]);
    ledger.record(&expected, &removed);
    assert_eq!(aoi.len(), model.pos.len());
    aoi.assert_grid();
    for i in 0..IDS {
        let id = e(i);
        assert_eq!(aoi.position(id), model.pos.get(&id).copied());
        assert_eq!(vis(aoi, id), &model.visible(id)[..], "visible({id})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matches_all_pairs_model_under_random_inserts_moves_teleports_and_removes(
        ops in proptest::collection::vec(op(), 1..300)
    ) {
        let cfg = config(50, 10);
        let mut aoi = Aoi::new(cfg, m(0, 0), m(400, 400));
        let mut model = Model::new(cfg);
        let mut ledger = Ledger::default();
        for op in ops {
                    match op {
                Op::Insert(i, p) => {
                    let id = e(i);
                    // Re-insertion waits for the update that processes the removal.
                    if !model.pos.contains_key(&id) && !model.removed.contains(&id) {
                        aoi.insert(id, p);
                        model.pos.insert(id, p);
                    }
                }
                Op::Step(i, d) => {
                    let id = e(i);
                    let to = model.pos.get(&id).map_or(d, |&p| p + d);
                    aoi.move_to(id, to);
                    if let Some(p) = model.pos.get_mut(&id) {
                        *p = to;
                    }
                }
                Op::Teleport(i, to) => {
                    let id = e(i);
                    aoi.move_to(id, to);
                    if let Some(p) = model.pos.get_mut(&id) {
                        *p = to;
                    }
                }
                Op::Remove(i) => {
                    let id = e(i);
                    let present = model.pos.remove(&id).is_some();
                    if present {
                        model.removed.insert(id);
                    }
                    prop_assert_eq!(aoi.remove(id), present);
                }
                Op::Update => check_against_model(&mut aoi, &mut model, &mut ledger),
            }
        }
        check_against_model(&mut aoi, &mut model, &mut ledger);

        // Removing one at a time closes every outstanding enter towards it.
        let ids: Vec<EntityId> = model.pos.keys().copied().collect();
        for id in ids {
            let watchers = model.visible(id);
            prop_assert!(aoi.remove(id));
            model.pos.remove(&id);
            model.removed.insert(id);
            check_against_model(&mut aoi, &mut model, &mut ledger);
            let mut last = Vec::new();
            aoi.update(&mut last);
            prop_assert!(last.is_empty());
            prop_assert!(watchers.iter().all(|w| vis(&aoi, *w).binary_search(&id).is_err()));
        }
        prop_assert!(ledger.open.is_empty(), "unclosed: {:?}", ledger.open);
        prop_assert!(aoi.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// When every entity moves, each decides only its pairs with higher
    /// slots: still the all-pairs answer, update after update.
    #[test]
    fn matches_the_model_when_everyone_moves_every_update(
        start in proptest::collection::vec(world_pos(), 2..40),
        steps in proptest::collection::vec(proptest::collection::vec((coord(-6, 6), coord(-6, 6)), 40), 1..12),
    ) {
        let cfg = config(50, 10);
        let mut aoi = Aoi::new(cfg, m(0, 0), m(400, 400));
        let mut model = Model::new(cfg);
        let mut ledger = Ledger::default();
        for (i, &p) in start.iter().enumerate() {
            aoi.insert(e(i as u64), p);
            model.pos.insert(e(i as u64), p);
        }
        check_against_model(&mut aoi, &mut model, &mut ledger);
        for round in &steps {
            for (i, &(dx, dy)) in round.iter().take(start.len()).enumerate() {
                let id = e(i as u64);
                let to = model.pos[&id] + Vec2::new(dx, dy);
                aoi.move_to(id, to);
                model.pos.insert(id, to);
            }
            check_against_model(&mut aoi, &mut model, &mut ledger);
        }
    }
}

/// The case that sets the drift limit at a third of the skin (10 m here): a
/// pair is not near when the later of the two made its list, and then each
/// drifts towards the other, one by its limit and the other by up to twice
/// its limit (from one side of where its list was made to the other).
#[test]
fn a_pair_that_drifts_together_without_new_near_lists_still_enters() {
    let mut aoi = Aoi::new(config(50, 10), m(0, 0), m(400, 400));
    let x = |metres_tenths: i32| {
        Vec2::new(
            Fixed::from_raw(metres_tenths * 256 / 10),
            Fixed::from_int(200),
        )
    };
    aoi.insert(e(1), x(1000));
    aoi.insert(e(2), x(1620)); // 62 m apart: not near (radius + skin = 60 m)
    assert_eq!(update(&mut aoi), vec![]);
    // 1 drifts 4.8 m away; 2 comes 5.5 m closer (and makes its list again):
    // 61.3 m, still not near.
    aoi.move_to(e(1), x(952));
    aoi.move_to(e(2), x(1565));
    assert_eq!(update(&mut aoi), vec![]);
    // 1 swings 9.6 m back, to 4.8 m past where it started; 2 comes 1.7 m
    // closer: 50.0 m, so they see each other.
    aoi.move_to(e(1), x(1048));
    aoi.move_to(e(2), x(1548));
    let events = update(&mut aoi);
    let d = aoi
        .position(e(1))
        .unwrap()
        .distance_squared_raw(aoi.position(e(2)).unwrap());
    assert!(d <= (50u64 * 256).pow(2), "{d}");
    assert_eq!(events, vec![enter(1, 2), enter(2, 1)]);
}

#[test]
fn enters_at_radius_inclusive_and_leaves_only_beyond_radius_plus_margin() {
    let mut aoi = Aoi::new(config(50, 10), m(0, 0), m(400, 400));
    let at = |x: Fixed| Vec2::new(Fixed::from_int(100) + x, Fixed::from_int(100));
    let raw = Fixed::from_raw;
    aoi.insert(e(1), m(100, 100));
    aoi.insert(e(2), at(Fixed::from_int(50) + raw(1)));
    assert_eq!(update(&mut aoi), vec![], "just beyond the radius");

    aoi.move_to(e(2), at(Fixed::from_int(50)));
    assert_eq!(
        update(&mut aoi),
        vec![enter(1, 2), enter(2, 1)],
        "at the radius"
    );

    aoi.move_to(e(2), at(Fixed::from_int(55)));
    assert_eq!(update(&mut aoi), vec![], "radius + margin/2 stays visible");
    aoi.move_to(e(2), at(Fixed::from_int(60)));
    assert_eq!(update(&mut aoi), vec![], "radius + margin is inclusive");
    assert_eq!(vis(&aoi, e(1)), &[e(2)]);

    aoi.move_to(e(2), at(Fixed::from_int(60) + raw(1)));
    assert_eq!(update(&mut aoi), vec![leave(1, 2), leave(2, 1)]);
    assert_eq!(vis(&aoi, e(1)), &[]);

    // Inside the margin band, a pair keeps whatever state it has: no flapping.
    for step in 0..20 {
        let x = if step % 2 == 0 { 51 } else { 59 };
        aoi.move_to(e(2), at(Fixed::from_int(x)));
        assert_eq!(update(&mut aoi), vec![], "hidden pair, oscillating at {x}");
    }
    aoi.move_to(e(2), at(Fixed::from_int(30)));
    assert_eq!(update(&mut aoi), vec![enter(1, 2), enter(2, 1)]);
    for step in 0..20 {
        let x = if step % 2 == 0 { 51 } else { 59 };
        aoi.move_to(e(2), at(Fixed::from_int(x)));
        // Moving both at once must not matter either.
        aoi.move_to(e(1), m(100, 100 + step % 2));
        assert_eq!(update(&mut aoi), vec![], "visible pair, oscillating at {x}");
    }
    assert_eq!(vis(&aoi, e(2)), &[e(1)]);
}

#[test]
fn update_without_changes_is_free_and_one_move_checks_only_its_neighbourhood() {
    // 1000 entities on a 40 x 25 lattice, 30 m apart: about 8 visible each.
    let mut aoi = Aoi::new(config(50, 10), m(0, 0), m(1200, 750));
    let mut n = 0;
    for gy in 0..25 {
        for gx in 0..40 {
            aoi.insert(e(n), m(gx * 30 + 15, gy * 30 + 15));
            n += 1;
        }
    }
    let first = update(&mut aoi);
    assert!(!first.is_empty());
    assert!(first.windows(2).all(|w| w[0].sort_key() < w[1].sort_key()));

    assert_eq!(update(&mut aoi), vec![]);
    assert_eq!(aoi.last_update_checks(), 0);

    let mover = e(20 * 40 / 2 + 20);
    let from = aoi.position(mover).unwrap();
    aoi.move_to(mover, from + m(7, 3));
    let events = update(&mut aoi);
    let checks = aoi.last_update_checks();
    // One mover against everyone would be 999 checks; its 3x3 cells of 50 m
    // hold about 25 entities, plus its visible list.
    assert!(checks > 0 && checks <= 60, "{checks} checks");
    assert!(events
        .iter()
        .all(|ev| ev.observer() == mover || ev.target() == mover));

    // And the result is still the all-pairs answer.
    let pos = aoi.position(mover).unwrap();
    let expect: Vec<EntityId> = (0..n)
        .map(e)
        .filter(|&o| o != mover && aoi.position(o).unwrap().within(pos, Fixed::from_int(50)))
        .collect();
    assert_eq!(vis(&aoi, mover), &expect[..]);
}

#[test]
fn removed_entity_gets_no_events_and_everyone_who_saw_it_gets_leave() {
    let mut aoi = Aoi::new(config(50, 10), m(0, 0), m(400, 400));
    for i in 1..=4 {
        aoi.insert(e(i), m(100 + i as i32, 100));
    }
    aoi.insert(e(9), m(300, 300));
    let events = update(&mut aoi);
    assert_eq!(events.len(), 12);

    assert!(aoi.remove(e(2)));
    assert!(!aoi.remove(e(2)));
    assert_eq!(aoi.position(e(2)), None);
    assert_eq!(vis(&aoi, e(2)), &[]);
    assert_eq!(aoi.len(), 4);
    // Until the update, observers still list it.
    assert_eq!(vis(&aoi, e(1)), &[e(2), e(3), e(4)]);
    assert_eq!(
        update(&mut aoi),
        vec![leave(1, 2), leave(3, 2), leave(4, 2)]
    );
    assert_eq!(vis(&aoi, e(1)), &[e(3), e(4)]);

    // Removed together: neither hears of the other.
    aoi.remove(e(3));
    aoi.remove(e(4));
    assert_eq!(update(&mut aoi), vec![leave(1, 3), leave(1, 4)]);

    // Re-inserted after the update: a fresh entity.
    aoi.insert(e(2), m(120, 100));
    assert_eq!(update(&mut aoi), vec![enter(1, 2), enter(2, 1)]);

    // Inserted and removed between updates: nothing at all.
    aoi.insert(e(5), m(101, 101));
    aoi.move_to(e(5), m(102, 101));
    aoi.remove(e(5));
    assert_eq!(update(&mut aoi), vec![]);
    aoi.move_to(e(5), m(1, 1));
    assert_eq!(aoi.position(e(5)), None);
}

#[test]
fn events_come_by_observer_then_leave_before_enter_then_target() {
    let mut aoi = Aoi::new(config(10, 0), m(0, 0), m(100, 100));
    aoi.insert(e(1), m(0, 0));
    aoi.insert(e(2), m(5, 0));
    update(&mut aoi);
    // 1 jumps from 2 to 3 and 4 in one update.
    aoi.insert(e(4), m(50, 0));
    aoi.insert(e(3), m(52, 0));
    aoi.move_to(e(1), m(51, 0));
    assert_eq!(
        update(&mut aoi),
        vec![
            leave(1, 2),
            enter(1, 3),
            enter(1, 4),
            leave(2, 1),
            enter(3, 1),
            enter(3, 4),
            enter(4, 1),
            enter(4, 3),
        ]
    );
}

#[test]
fn outside_bounds_is_bucketed_in_edge_cells_but_measured_at_true_position() {
    let mut aoi = Aoi::new(config(50, 10), m(0, 0), m(100, 100));
    // Cells as wide as the radius plus the skin (here the margin).
    assert_eq!(aoi.grid_size(), (2, 2));
    aoi.insert(e(1), m(-1000, 10));
    aoi.insert(e(2), m(-960, 40));
    aoi.insert(e(3), m(10, 10));
    aoi.insert(e(4), m(5000, 5000));
    aoi.insert(e(5), m(5000, 5050));
    assert_eq!(
        update(&mut aoi),
        vec![enter(1, 2), enter(2, 1), enter(4, 5), enter(5, 4)]
    );
    // A teleport far away leaves, even across the whole grid.
    aoi.move_to(e(2), m(5000, 5010));
    assert_eq!(
        update(&mut aoi),
        vec![
            leave(1, 2),
            leave(2, 1),
            enter(2, 4),
            enter(2, 5),
            enter(4, 2),
            enter(5, 2)
        ]
    );
}

#[test]
fn the_order_of_calls_does_not_change_the_result() {
    // Inserting in reverse also reverses the internal slots, hence the order in
    // which changed entities are processed.
    let lattice = |i: u64| ((i % 10) as i32 * 7 + 100, (i / 10) as i32 * 7 + 100);
    let mut runs = Vec::new();
    for reverse in [false, true] {
        let order: Vec<u64> = if reverse {
            (0..100).rev().collect()
        } else {
            (0..100).collect()
        };
        let mut aoi = Aoi::new(config(30, 5), m(0, 0), m(300, 300));
        for &i in &order {
            let (x, y) = lattice(i);
            aoi.insert(e(i), m(x, y));
        }
        let first = update(&mut aoi);
        // Everyone moves, by different steps: pairs of movers enter and leave.
        for &i in &order {
            let (x, y) = lattice(i);
            aoi.move_to(e(i), m(x + (i % 3) as i32 * 20, y - (i % 4) as i32 * 9));
        }
        let second = update(&mut aoi);
        assert!(second.iter().any(|ev| matches!(ev, AoiEvent::Leave { .. })));
        assert!(second.iter().any(|ev| matches!(ev, AoiEvent::Enter { .. })));
        let seen: Vec<Vec<EntityId>> = (0..100).map(|i| vis(&aoi, e(i)).to_vec()).collect();
        runs.push((first, second, seen));
    }
    assert!(runs[0] == runs[1]);
}

#[test]
fn zero_radius_sees_only_the_same_spot() {
    let mut aoi = Aoi::new(config(0, 0), m(0, 0), m(1, 1));
    assert_eq!(aoi.grid_size(), (257, 257));
    aoi.insert(e(1), m(3, 3));
    aoi.insert(e(2), m(3, 3));
    aoi.insert(
        e(3),
        Vec2::new(Fixed::from_int(3), Fixed::from_raw(3 * 256 + 1)),
    );
    assert_eq!(update(&mut aoi), vec![enter(1, 2), enter(2, 1)]);
}

#[test]
fn a_tiny_radius_over_huge_bounds_gets_coarser_cells_not_a_panic() {
    let mut aoi = Aoi::new(config(1, 0), m(0, 0), m(1_000_000, 1_000_000));
    let (x, y) = aoi.grid_size();
    assert!((x as u64) * (y as u64) <= 1 << 22, "{x}x{y}");
    aoi.insert(e(1), m(500_000, 500_000));
    aoi.insert(e(2), m(500_000, 500_001));
    aoi.insert(e(3), m(500_000, 500_002));
    assert_eq!(
        update(&mut aoi),
        vec![enter(1, 2), enter(2, 1), enter(2, 3), enter(3, 2)]
    );
}

#[test]
fn removed_then_inserted_before_the_update_is_a_move() {
    let mut aoi = Aoi::new(config(50, 10), m(0, 0), m(400, 400));
    aoi.insert(e(1), m(100, 100));
    aoi.insert(e(2), m(110, 100));
    aoi.insert(e(3), m(300, 300));
    update(&mut aoi);
    aoi.remove(e(2));
    aoi.insert(e(2), m(310, 300));
    assert_eq!(aoi.len(), 3);
    assert_eq!(
        update(&mut aoi),
        vec![leave(1, 2), leave(2, 1), enter(2, 3), enter(3, 2)]
    );
}

#[test]
fn the_callers_bits_start_at_zero_stay_put_and_reset_on_reentry() {
    let mut aoi = Aoi::new(config(10, 2), m(0, 0), m(100, 100));
    aoi.insert(e(1), m(10, 10));
    aoi.insert(e(2), m(15, 10));
    aoi.insert(e(3), m(12, 12));
    update(&mut aoi);
    for s in aoi.visible_mut(e(1)) {
        assert_eq!(s.tag(), 0);
        s.set_tag(0xa0 | s.id().0 as u8);
    }
    aoi.move_to(e(1), m(11, 10));
    aoi.move_to(e(2), m(16, 10));
    update(&mut aoi);
    let tags: Vec<(EntityId, u8)> = aoi
        .visible_mut(e(1))
        .iter()
        .map(|s| (s.id(), s.tag()))
        .collect();
    assert_eq!(tags, vec![(e(2), 0xa2), (e(3), 0xa3)], "moves keep them");
    assert_eq!(
        vis(&aoi, e(1)),
        vec![e(2), e(3)],
        "ids are not changed by tags"
    );
    aoi.move_to(e(2), m(40, 10));
    update(&mut aoi);
    aoi.move_to(e(2), m(16, 10));
    update(&mut aoi);
    let tags: Vec<(EntityId, u8)> = aoi
        .visible_mut(e(1))
        .iter()
        .map(|s| (s.id(), s.tag()))
        .collect();
    assert_eq!(
        tags,
        vec![(e(2), 0), (e(3), 0xa3)],
        "a new pair starts at zero"
    );
    let mut each = Vec::new();
    aoi.each_visible_mut(|id, seen| each.push((id, seen.iter().map(|s| s.id()).collect())));
    let want: Vec<(EntityId, Vec<EntityId>)> = (1..=3).map(|i| (e(i), vis(&aoi, e(i)))).collect();
    assert_eq!(each, want, "every live id, ascending, with its list");
}
