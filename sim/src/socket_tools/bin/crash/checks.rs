//! What the store must hold after the kill and after the second run.

use super::*;

/// Checks the store right after the restart against what was acknowledged.
pub(super) fn check_after_crash(
    bots: usize,
    stored: &[CharacterRecord],
    accounts: Option<i64>,
    report: &mut RunReport,
) {
    let v = &mut report.violations;
    let expected: BTreeSet<String> = (0..bots).map(|i| format!("{NAME_PREFIX}{i}")).collect();
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_account: BTreeMap<u64, usize> = BTreeMap::new();
    for c in stored {
        *by_name.entry(c.name.as_str()).or_default() += 1;
        *by_account.entry(c.account.0).or_default() += 1;
        if !expected.contains(&c.name) {
            v.push(format!("unexpected character {:?} ({})", c.name, c.id));
        }
    }
    for name in &expected {
        match by_name.get(name.as_str()) {
            // Allowed only if it never entered the world (checked by id
            // below): the kill came before this bot's character was made.
            None => report.not_yet_created += 1,
            Some(1) => {}
            Some(n) => v.push(format!("doubled: {n} characters named {name:?}")),
        }
    }
    for (account, n) in &by_account {
        if *n > 1 {
            v.push(format!("doubled: account#{account} has {n} characters"));
        }
    }
    let by_id: BTreeMap<u64, &CharacterRecord> = stored.iter().map(|c| (c.id.0, c)).collect();
    let missing: Vec<&u64> = report
        .acks
        .entered
        .iter()
        .filter(|id| !by_id.contains_key(id))
        .collect();
    for id in &missing {
        v.push(format!(
            "LOST: character#{id} entered the world before the kill and is not in the store"
        ));
    }
    if report.not_yet_created > 0 && report.acks.entered.len() >= bots {
        v.push(format!(
            "missing: {} bots have no character though {} characters entered the world",
            report.not_yet_created,
            report.acks.entered.len()
        ));
    }
    // Accounts are made at login, before any character: each bot that has a
    // character has its one account, and no more accounts than bots.
    if let Some(a) = accounts {
        if a > bots as i64 || a < stored.len() as i64 {
            v.push(format!("{a} accounts stored for {bots} bots"));
        }
    }
    for (id, ack) in &report.acks.last {
        let Some(c) = by_id.get(id) else {
            v.push(format!(
                "LOST: character#{id} had save v{} acknowledged and is not in the store",
                ack.version
            ));
            continue;
        };
        let place = stored_place(c);
        if c.version < ack.version {
            v.push(format!(
                "LOST: {} ({:?}) acknowledged v{} at {}, stored v{} at {}",
                c.id,
                c.name,
                ack.version,
                show(ack),
                c.version,
                show(&place)
            ));
        } else if c.version == ack.version {
            if place == *ack {
                report.exact += 1;
            } else {
                v.push(format!(
                    "WRONG PLACE: {} ({:?}) v{} acknowledged at {}, stored at {}",
                    c.id,
                    c.name,
                    ack.version,
                    show(ack),
                    show(&place)
                ));
            }
        } else {
            report.newer += 1;
        }
    }
    for c in stored {
        if !report.acks.last.contains_key(&c.id.0) {
            report.never_acked += 1;
            if c.version > 0 {
                report.never_acked_saved += 1;
            }
        }
    }
}

/// Checks the store after the bots' second run and a clean stop: the same
/// characters (none created), each saved again, and the second server's
/// acknowledged saves all there.
pub(super) fn check_after_again(
    before: &[CharacterRecord],
    after: &[CharacterRecord],
    acks: &Acks,
    report: &mut RunReport,
) {
    let v = &mut report.violations;
    let before_by_name: BTreeMap<&str, &CharacterRecord> =
        before.iter().map(|c| (c.name.as_str(), c)).collect();
    for c in after {
        match before_by_name.get(c.name.as_str()) {
            // A bot the kill came before: it makes its character now.
            None => report.created_again += 1,
            Some(old) if old.id != c.id => v.push(format!(
                "NEW character {:?}: {} before, {} after the second run",
                c.name, old.id, c.id
            )),
            Some(old) if c.version > old.version => report.moved_on += 1,
            Some(old) => v.push(format!(
                "did not move on: {} ({:?}) v{} before and after the second run",
                c.id, c.name, old.version
            )),
        }
    }
    if after.len() != before.len() + report.not_yet_created {
        v.push(format!(
            "{} characters before the second run, {} after ({} bots had none)",
            before.len(),
            after.len(),
            report.not_yet_created
        ));
    }
    let mut names = BTreeMap::<&str, usize>::new();
    for c in after {
        *names.entry(c.name.as_str()).or_default() += 1;
    }
    for (name, n) in names {
        if n > 1 {
            v.push(format!(
                "doubled after the second run: {n} characters named {name:?}"
            ));
        }
    }
    let by_id: BTreeMap<u64, &CharacterRecord> = after.iter().map(|c| (c.id.0, c)).collect();
    for (id, ack) in &acks.last {
        match by_id.get(id) {
            None => v.push(format!(
                "LOST after a clean stop: character#{id} acknowledged v{} and not stored",
                ack.version
            )),
            Some(c) if c.version < ack.version => v.push(format!(
                "LOST after a clean stop: {} acknowledged v{}, stored v{}",
                c.id, ack.version, c.version
            )),
            Some(c) if c.version == ack.version && stored_place(c) != *ack => v.push(format!(
                "WRONG PLACE after a clean stop: {} v{} acknowledged at {}, stored at {}",
                c.id,
                ack.version,
                show(ack),
                show(&stored_place(c))
            )),
            Some(c) if c.version == ack.version => report.final_exact += 1,
            Some(_) => {}
        }
    }
}

pub(super) fn stored_place(c: &CharacterRecord) -> Ack {
    Ack {
        version: c.version,
        map: c.state.place.map.clone(),
        channel: c.state.place.channel,
        x: c.state.place.pos.x.raw(),
        y: c.state.place.pos.y.raw(),
    }
}

pub(super) fn show(a: &Ack) -> String {
    format!("{}/{} ({}, {})", a.map, a.channel, a.x, a.y)
}
