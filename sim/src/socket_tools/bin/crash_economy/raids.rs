//! Raid rewards under SIGKILL: every reward a recorded run owes exactly
//! once. From the servers' logs, the runs the store recorded (`raid run
//! recorded run=... owed="character#3,character#9"`, written when the
//! store's answer arrives, before any player is told the end); from the
//! database, every owed reward and whether a transaction gave it, and each
//! character's raid gold in the ledger. The checks:
//!
//! - every recorded run's rewards are in the database (none lost);
//! - each character's raid gold in the ledger is the gold of its rewards
//!   marked given (each given by one transaction, never twice);
//! - every reward still owed when a server was killed (read from the
//!   database right after the kill) was given by the end: its winner came
//!   back and was given it at the load.

use std::collections::{BTreeMap, BTreeSet};

/// A run a server's store recorded, and who it owes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RunAcked {
    pub(super) run: u64,
    pub(super) owed: Vec<u64>,
}

/// The recorded runs in a server log; lines the kill cut are counted apart.
pub(super) fn parse_runs(log: &str) -> (Vec<RunAcked>, u64) {
    let mut runs = Vec::new();
    let mut unreadable = 0;
    for line in log.lines().filter(|l| l.contains("raid run recorded")) {
        match parse_line(line) {
            Some(r) => runs.push(r),
            None => unreadable += 1,
        }
    }
    (runs, unreadable)
}

fn parse_line(line: &str) -> Option<RunAcked> {
    let at = line.find(" run=")? + 5;
    let rest = &line[at..];
    let run = rest[..rest.find(' ')?].parse().ok()?;
    let at = line.find(" owed=")? + 6;
    let owed = line[at..].trim().trim_matches('"');
    let owed = if owed.is_empty() {
        Vec::new()
    } else {
        owed.split(',')
            .map(|c| c.strip_prefix("character#")?.parse().ok())
            .collect::<Option<Vec<u64>>>()?
    };
    Some(RunAcked { run, owed })
}

/// The raid rewards as the database holds them.
#[derive(Debug, Default)]
pub(super) struct Rewards {
    /// (character, run id as logged, in 64 bits) → (gold, given).
    pub(super) rows: BTreeMap<(i64, i64), (i64, bool)>,
    /// Raid gold in the ledger, by the transaction's (only) character.
    pub(super) ledger_gold: BTreeMap<i64, i64>,
}

impl Rewards {
    /// The rewards owed and not given.
    pub(super) fn owed(&self) -> BTreeSet<(i64, i64)> {
        (self.rows.iter())
            .filter(|(_, (_, given))| !given)
            .map(|(&k, _)| k)
            .collect()
    }

    pub(super) fn given(&self) -> usize {
        self.rows.values().filter(|(_, given)| *given).count()
    }
}

pub(super) async fn read(url: &str) -> Result<Rewards, String> {
    let pool = super::ledger::open(url).await?;
    let out = read_from(&pool)
        .await
        .map_err(|e| format!("reading the raid rewards: {e}"));
    pool.close().await;
    out
}

async fn read_from(pool: &sqlx::AnyPool) -> Result<Rewards, sqlx::Error> {
    use sqlx::Row;
    let mut r = Rewards::default();
    for row in
        sqlx::query("SELECT character_id, run_id, gold, CAST(given AS BIGINT) FROM raid_rewards")
            .fetch_all(pool)
            .await?
    {
        let given: i64 = row.try_get(3)?;
        // Stored with its top bit flipped (migration 0006): back to the id.
        let run = (row.try_get::<i64, _>(1)? as u64 ^ (1 << 63)) as i64;
        let key = (row.try_get(0)?, run);
        r.rows.insert(key, (row.try_get(2)?, given != 0));
    }
    for row in sqlx::query(
        "SELECT first_character, CAST(SUM(amount) AS BIGINT) FROM economy_ledger_lines \
         WHERE kind = 'gold_in' AND way = 'raid' GROUP BY first_character",
    )
    .fetch_all(pool)
    .await?
    {
        r.ledger_gold.insert(row.try_get(0)?, row.try_get(1)?);
    }
    Ok(r)
}

/// Every broken promise: `runs` recorded by the servers, `owed_at_kills`
/// the rewards owed right after each kill.
pub(super) fn check(
    stored: &Rewards,
    runs: &[RunAcked],
    owed_at_kills: &BTreeSet<(i64, i64)>,
) -> Vec<String> {
    let mut v = Vec::new();
    for r in runs {
        for &c in &r.owed {
            if !stored.rows.contains_key(&(c as i64, r.run as i64)) {
                v.push(format!(
                    "run {} was recorded owing character#{c} a reward the database does not hold",
                    r.run
                ));
            }
        }
    }
    let mut marked: BTreeMap<i64, i64> = BTreeMap::new();
    for (&(c, _), &(gold, given)) in &stored.rows {
        if given {
            *marked.entry(c).or_default() += gold;
        }
    }
    let characters: BTreeSet<i64> = (marked.keys())
        .chain(stored.ledger_gold.keys())
        .copied()
        .collect();
    for c in characters {
        let (ledger, given) = (
            stored.ledger_gold.get(&c).copied().unwrap_or(0),
            marked.get(&c).copied().unwrap_or(0),
        );
        if ledger != given {
            v.push(format!(
                "character#{c} holds {ledger} raid gold by the ledger, rewards of {given} given"
            ));
        }
    }
    let still = stored.owed();
    for k in owed_at_kills.intersection(&still) {
        v.push(format!(
            "character#{}'s reward of run {} was owed at a kill and never given after",
            k.0, k.1
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_run_parses() {
        let log = "2026-12-06T13:00:00.000001Z DEBUG net_adapter::server::core_loop: \
                   raid run recorded run=1876543 owed=\"character#3,character#9\"\n\
                   2026-12-06T13:00:00.000002Z DEBUG x: raid run recorded run=5 owed=\"\"\n\
                   2026-12-06T13:00:00.000003Z DEBUG x: raid run recorded run=";
        let (runs, cut) = parse_runs(log);
        assert_eq!(cut, 1);
        assert_eq!(
            runs,
            [
                RunAcked {
                    run: 1_876_543,
                    owed: vec![3, 9]
                },
                RunAcked {
                    run: 5,
                    owed: vec![]
                }
            ]
        );
    }

    #[test]
    fn the_checks_pass_rewards_given_once_and_catch_each_broken_promise() {
        let mut ok = Rewards::default();
        ok.rows.insert((3, 7), (120, true));
        ok.rows.insert((9, 7), (120, false));
        ok.ledger_gold.insert(3, 120);
        let runs = [RunAcked {
            run: 7,
            owed: vec![3, 9],
        }];
        let at_kill: BTreeSet<(i64, i64)> = [(3, 7)].into();
        assert!(check(&ok, &runs, &at_kill).is_empty());
        let mut lost = Rewards::default();
        lost.rows.insert((3, 7), (120, true));
        lost.ledger_gold.insert(3, 120);
        let mut twice = Rewards {
            ..Default::default()
        };
        twice.rows = ok.rows.clone();
        twice.ledger_gold.insert(3, 240);
        for broken in [lost, twice] {
            assert_eq!(check(&broken, &runs, &at_kill).len(), 1, "{broken:?}");
        }
        let never_given: BTreeSet<(i64, i64)> = [(9, 7)].into();
        assert_eq!(check(&ok, &runs, &never_given).len(), 1);
    }
}
