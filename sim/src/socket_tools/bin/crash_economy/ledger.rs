//! What the database holds of the economy, read with plain SQL, and the
//! checks on it: every item id at most once; for gold and for each item
//! kind, what is held equals the ledger's sources minus its sinks; every
//! transaction the server acknowledged (from its logs) is in the ledger and
//! in its inventories; none applied twice.

use std::collections::{BTreeMap, BTreeSet};

/// One acknowledged transaction, from a server log: its name and each
/// part's (character, sequence number after it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Acked {
    pub(super) first: u64,
    pub(super) seq: u64,
    pub(super) parts: Vec<(u64, u64)>,
}

/// The acknowledged transactions in a server log (`transaction committed
/// first=character#12 seq=5 parts="character#12@5,character#13@8"`); lines
/// the kill cut are counted apart.
pub(super) fn parse_acked(log: &str) -> (Vec<Acked>, u64) {
    let mut acked = Vec::new();
    let mut unreadable = 0;
    for line in log.lines().filter(|l| l.contains("transaction committed")) {
        match parse_line(line) {
            Some(a) => acked.push(a),
            None => unreadable += 1,
        }
    }
    (acked, unreadable)
}

fn character(v: &str) -> Option<u64> {
    v.trim_matches('"').strip_prefix("character#")?.parse().ok()
}

fn parse_line(line: &str) -> Option<Acked> {
    let field = |key: &str| {
        let at = line.find(&format!(" {key}="))? + key.len() + 2;
        let rest = &line[at..];
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            quoted.find('"')? + 2
        } else {
            rest.find(' ').unwrap_or(rest.len())
        };
        Some(rest[..end].trim_matches('"').to_string())
    };
    let first = character(&field("first")?)?;
    let seq = field("seq")?.parse().ok()?;
    let parts = field("parts")?
        .split(',')
        .map(|p| {
            let (c, s) = p.split_once('@')?;
            Some((character(c)?, s.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Acked { first, seq, parts })
}

/// The economy as the database holds it.
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// Item ids held more than once: (minted_by, tx, n) and how often.
    pub(super) doubled_ids: Vec<(i64, i64, i64, i64)>,
    pub(super) stacks: i64,
    /// Items held, by kind.
    pub(super) held: BTreeMap<i64, i64>,
    pub(super) gold: i64,
    /// By kind: items minted and burned; gold in and out (kind -1).
    pub(super) minted: BTreeMap<i64, i64>,
    pub(super) burned: BTreeMap<i64, i64>,
    /// Ledger lines by (kind, way): what came from each source and went to
    /// each sink.
    pub(super) by_way: BTreeMap<(String, String), i64>,
    pub(super) ledger: BTreeSet<(i64, i64)>,
    /// Each inventory's sequence number.
    pub(super) seqs: BTreeMap<i64, i64>,
}

/// Gold in the maps of [`Stored`].
pub(super) const GOLD: i64 = -1;

/// A one-connection pool on the database at `url`.
pub(super) async fn open(url: &str) -> Result<sqlx::AnyPool, String> {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))
}

pub(super) async fn read(url: &str) -> Result<Stored, String> {
    let pool = open(url).await?;
    let out = read_from(&pool)
        .await
        .map_err(|e| format!("reading the economy: {e}"));
    pool.close().await;
    out
}

async fn read_from(pool: &sqlx::AnyPool) -> Result<Stored, sqlx::Error> {
    use sqlx::Row;
    let mut s = Stored::default();
    for r in sqlx::query(
        "SELECT minted_by, tx, n, COUNT(*) AS c FROM inventory_stacks \
         GROUP BY minted_by, tx, n HAVING COUNT(*) > 1",
    )
    .fetch_all(pool)
    .await?
    {
        s.doubled_ids
            .push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
    }
    s.stacks = sqlx::query_scalar("SELECT COUNT(*) FROM inventory_stacks")
        .fetch_one(pool)
        .await?;
    for r in sqlx::query(
        "SELECT CAST(def AS BIGINT), CAST(SUM(count) AS BIGINT) FROM inventory_stacks GROUP BY def",
    )
    .fetch_all(pool)
    .await?
    {
        s.held.insert(r.try_get(0)?, r.try_get(1)?);
    }
    s.gold = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(gold), 0) AS BIGINT) FROM inventories")
        .fetch_one(pool)
        .await?;
    for r in sqlx::query(
        "SELECT kind, way, CAST(COALESCE(def, -1) AS BIGINT), CAST(SUM(amount) AS BIGINT) \
         FROM economy_ledger_lines GROUP BY kind, way, def",
    )
    .fetch_all(pool)
    .await?
    {
        let (kind, way): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let (def, amount): (i64, i64) = (r.try_get(2)?, r.try_get(3)?);
        match kind.as_str() {
            "minted" | "gold_in" => *s.minted.entry(def).or_default() += amount,
            _ => *s.burned.entry(def).or_default() += amount,
        }
        *s.by_way.entry((kind, way)).or_default() += amount;
    }
    for r in sqlx::query("SELECT first_character, seq FROM economy_ledger")
        .fetch_all(pool)
        .await?
    {
        s.ledger.insert((r.try_get(0)?, r.try_get(1)?));
    }
    for r in sqlx::query("SELECT character_id, seq FROM inventories")
        .fetch_all(pool)
        .await?
    {
        s.seqs.insert(r.try_get(0)?, r.try_get(1)?);
    }
    Ok(s)
}

/// Every violation of the economy's promises in `stored`, given what the
/// servers acknowledged.
pub(super) fn check(stored: &Stored, acked: &[Acked]) -> Vec<String> {
    let mut v = Vec::new();
    for (m, t, n, c) in &stored.doubled_ids {
        v.push(format!("item id ({m}, {t}, {n}) is held {c} times"));
    }
    let kinds: BTreeSet<i64> = stored
        .held
        .keys()
        .chain(stored.minted.keys())
        .chain(stored.burned.keys())
        .copied()
        .filter(|k| *k != GOLD)
        .collect();
    for kind in kinds {
        let held = stored.held.get(&kind).copied().unwrap_or(0);
        let made = stored.minted.get(&kind).copied().unwrap_or(0);
        let gone = stored.burned.get(&kind).copied().unwrap_or(0);
        if held != made - gone {
            v.push(format!(
                "item kind {kind}: {held} held, but the ledger says {made} made - {gone} destroyed"
            ));
        }
    }
    let made = stored.minted.get(&GOLD).copied().unwrap_or(0);
    let gone = stored.burned.get(&GOLD).copied().unwrap_or(0);
    if stored.gold != made - gone {
        v.push(format!(
            "gold: {} held, but the ledger says {made} in - {gone} out",
            stored.gold
        ));
    }
    let mut names = BTreeSet::new();
    for a in acked {
        if !names.insert((a.first, a.seq)) {
            v.push(format!(
                "transaction (character#{}, {}) was acknowledged twice",
                a.first, a.seq
            ));
        }
        if !stored.ledger.contains(&(a.first as i64, a.seq as i64)) {
            v.push(format!(
                "acknowledged transaction (character#{}, {}) is not in the ledger",
                a.first, a.seq
            ));
        }
        for &(c, seq) in &a.parts {
            match stored.seqs.get(&(c as i64)) {
                Some(&stored_seq) if stored_seq >= seq as i64 => {}
                other => v.push(format!(
                    "character#{c}'s inventory is at {other:?}, before the acknowledged {seq}"
                )),
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_acknowledgement_parses() {
        let log = "2026-12-06T13:00:00.000001Z DEBUG net_adapter::server::core_loop: \
                   transaction committed first=character#12 seq=5 \
                   parts=\"character#12@5,character#13@8\"\n\
                   2026-12-06T13:00:00.000002Z DEBUG x: transaction committed first=charac";
        let (acked, cut) = parse_acked(log);
        assert_eq!(cut, 1);
        assert_eq!(
            acked,
            [Acked {
                first: 12,
                seq: 5,
                parts: vec![(12, 5), (13, 8)]
            }]
        );
    }

    fn consistent() -> Stored {
        let mut s = Stored::default();
        s.held.insert(3, 10);
        s.minted.insert(3, 12);
        s.burned.insert(3, 2);
        s.gold = 50;
        s.minted.insert(GOLD, 80);
        s.burned.insert(GOLD, 30);
        s.ledger.insert((12, 5));
        s.seqs.insert(12, 5);
        s.seqs.insert(13, 9);
        s
    }

    #[test]
    fn the_checks_pass_a_consistent_store_and_catch_each_broken_promise() {
        let acked = [Acked {
            first: 12,
            seq: 5,
            parts: vec![(12, 5), (13, 8)],
        }];
        assert!(check(&consistent(), &acked).is_empty());
        let mut doubled = consistent();
        doubled.doubled_ids.push((12, 3, 1, 2));
        let mut made_up = consistent();
        made_up.held.insert(3, 11);
        let mut gold = consistent();
        gold.gold = 51;
        let mut lost = consistent();
        lost.ledger.clear();
        let mut rolled_back = consistent();
        rolled_back.seqs.insert(13, 7);
        for broken in [doubled, made_up, gold, lost, rolled_back] {
            assert_eq!(check(&broken, &acked).len(), 1, "{broken:?}");
        }
        let twice = [acked[0].clone(), acked[0].clone()];
        assert_eq!(check(&consistent(), &twice).len(), 1);
    }
}
