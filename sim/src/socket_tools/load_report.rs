//! The load generator's report: what thousands of real-socket bots saw, summed
//! from their [`BotOutcome`]s. `mmo-bots` prints it and writes it as JSON;
//! `loadtest` reads that JSON back and prints it beside the server's figures.

use super::bot::BotOutcome;
use super::login_client::LoginCounts;
use crate::policy::Kind;
use crate::report::{Percentiles, Tally};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub addr: String,
    pub bots: usize,
    /// The policies, as `kind=percent` pairs.
    pub mix: String,
    pub move_hz: u32,
    pub seconds: u64,
    /// Bots welcomed at least once.
    pub connected: usize,
    pub connected_at_end: usize,
    pub resumes: u64,
    /// Transport connects that failed, whether or not the bot got in later.
    pub connect_failures: u64,
    /// Failed connects a later connect made good (with `--reconnect`).
    #[serde(default)]
    pub recovered_connect_failures: u64,
    pub zones_entered: u64,
    pub corrections: u64,
    pub rtt: Percentiles,
    /// Entity entries (spawns, despawns, moves) received by all bots, per
    /// second of the run.
    pub entity_updates_per_s: f64,
    /// The same per bot per second connected.
    pub entity_updates_per_client_s: f64,
    /// Bytes received per bot per second connected.
    pub bytes_per_client_s: f64,
    /// Every disconnect except the bots' own goodbyes at the end, by reason,
    /// including those the bots recovered from.
    pub disconnects: Tally,
    /// Disconnects the bots got over by reconnecting and resuming their
    /// player (with `--reconnect`).
    #[serde(default)]
    pub recovered_disconnects: u64,
    /// The rest: disconnects no resume made good.
    pub unexpected_disconnects: u64,
    pub wall_seconds: f64,
    /// How the bots logged in: `dev` or `password` (the login service).
    #[serde(default)]
    pub auth: String,
    /// Fresh logins whose character was already on the account (a second
    /// run over the same names finds every one).
    #[serde(default)]
    pub characters_found: u64,
    /// Fresh logins that had to create their character.
    #[serde(default)]
    pub characters_created: u64,
    /// What the fighters did, all together (with fighters in the mix).
    #[serde(default)]
    pub fighters: Option<FightSum>,
    /// What the brawlers did, all together.
    #[serde(default)]
    pub brawlers: Option<FightSum>,
    /// What the social bots did, all together.
    #[serde(default)]
    pub social: Option<SocialSum>,
    /// With `--auth password`: the login service's side of the run.
    #[serde(default)]
    pub login: Option<LoginPhase>,
}

/// What the bots of one fighting kind did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FightSum {
    pub bots: u64,
    pub kills: u64,
    pub deaths: u64,
    pub levels_gained: u64,
    pub experience: u64,
    pub hits: u64,
    pub skills_sent: u64,
    pub held_corrections: u64,
    pub refusals: Tally,
}

impl FightSum {
    fn of<'a>(outcomes: impl Iterator<Item = &'a BotOutcome>) -> Option<Self> {
        let mut s = FightSum::default();
        for o in outcomes {
            let Some(t) = o.fight.as_ref() else { continue };
            s.bots += 1;
            s.kills += t.kills;
            s.deaths += t.deaths;
            s.levels_gained += t.levels_gained;
            s.experience += t.experience;
            s.hits += t.hits;
            s.skills_sent += t.skills_sent;
            s.held_corrections += u64::from(o.held_corrections);
            for (k, v) in &t.refusals {
                *s.refusals.entry(k.to_string()).or_default() += v;
            }
        }
        (s.bots > 0).then_some(s)
    }

    fn row(&self, name: &str) -> (String, String) {
        (
            name.into(),
            format!(
                "{} bots: {} kills, {} deaths, {} levels gained, {} experience, {} hits, {} skills sent, {} held corrections; refused {:?}",
                self.bots, self.kills, self.deaths, self.levels_gained, self.experience,
                self.hits, self.skills_sent, self.held_corrections, self.refusals
            ),
        )
    }
}

/// What the social bots did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialSum {
    pub bots: u64,
    pub lines_sent: u64,
    pub actions_sent: u64,
    pub lines_heard: u64,
    pub missed: u64,
    pub parties_joined: u64,
    pub guilds_joined: u64,
    pub friends_made: u64,
    /// Refusals by reason (`rate_limited` should stay at 0).
    pub refusals: Tally,
}

impl SocialSum {
    fn of<'a>(outcomes: impl Iterator<Item = &'a BotOutcome>) -> Option<Self> {
        let mut s = SocialSum::default();
        for t in outcomes.filter_map(|o| o.social.as_ref()) {
            s.bots += 1;
            s.lines_sent += t.sent.values().sum::<u64>();
            s.actions_sent += t.actions;
            s.lines_heard += t.heard.values().sum::<u64>();
            s.missed += t.missed;
            s.parties_joined += t.parties_joined;
            s.guilds_joined += t.guilds_joined;
            s.friends_made += t.friends_made;
            for (k, v) in &t.refusals {
                *s.refusals.entry(k.to_string()).or_default() += v;
            }
        }
        (s.bots > 0).then_some(s)
    }

    fn row(&self) -> (String, String) {
        (
            "social".into(),
            format!(
                "{} bots: {} lines and {} other requests sent, {} lines heard, {} missed, {} parties and {} guilds joined, {} friends made; refused {:?}",
                self.bots, self.lines_sent, self.actions_sent, self.lines_heard, self.missed,
                self.parties_joined, self.guilds_joined, self.friends_made, self.refusals
            ),
        )
    }
}

/// The accounts and first tokens of a `--auth password` run, fetched before
/// the bots connect (or alone, with `--login-only`), and every fresh token
/// after.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginPhase {
    pub url: String,
    /// Requests in flight at once while the accounts are signed in.
    pub concurrency: usize,
    /// Bots with a first token.
    pub signed_in: usize,
    /// Bots that got none (the service refused, or never answered in time).
    pub failed: usize,
    /// Accounts never tried: the run was stopped first (SIGTERM).
    #[serde(default)]
    pub not_started: usize,
    /// From the first request to the last first token.
    pub seconds: f64,
    /// `signed_in / seconds`.
    pub logins_per_s: f64,
    /// The latency of one bot's whole sign-in (every request and wait).
    pub sign_in: Percentiles,
    /// Every request of the run, the reconnects' fresh tokens included.
    pub counts: LoginCounts,
    /// The first error of a bot that got no token.
    pub first_error: Option<String>,
}

impl LoginPhase {
    /// The phase as `label  value` lines.
    pub fn table(&self) -> Vec<(String, String)> {
        let c = &self.counts;
        vec![
            ("login service".into(), self.url.clone()),
            (
                "signed in".into(),
                format!(
                    "{} in {:.1} s, {:.1} logins/s ({} at once)",
                    self.signed_in, self.seconds, self.logins_per_s, self.concurrency
                ),
            ),
            ("sign-ins not started".into(), self.not_started.to_string()),
            (
                "sign-in failures".into(),
                match &self.first_error {
                    Some(e) if self.failed > 0 => format!("{} (first: {e})", self.failed),
                    _ => self.failed.to_string(),
                },
            ),
            (
                "sign-in p50/p99/max".into(),
                format!(
                    "{:.1} / {:.1} / {:.1} ms",
                    self.sign_in.p50_ms, self.sign_in.p99_ms, self.sign_in.max_ms
                ),
            ),
            (
                "accounts new/existing".into(),
                format!("{} / {}", c.registered, c.already_registered),
            ),
            (
                "tokens issued".into(),
                format!("{} ({} requests)", c.tokens, c.requests),
            ),
            (
                "429 / 503 / 408 / 401".into(),
                format!(
                    "{} / {} / {} / {} (waited {:.1} s)",
                    c.rate_limited, c.busy, c.timed_out, c.bad_credentials, c.waited_s
                ),
            ),
            (
                "other errors".into(),
                format!(
                    "{} refusals, {} unanswered",
                    c.other_refusals, c.transport_errors
                ),
            ),
        ]
    }
}

impl LoadReport {
    /// Sums `outcomes` of a run that lasted `wall_seconds`. The other fields
    /// (the run's parameters) are the caller's to fill.
    pub fn summarise(outcomes: &[BotOutcome], wall_seconds: f64) -> Self {
        let mut rtts: Vec<u64> = outcomes
            .iter()
            .flat_map(|o| o.rtt_samples_us.iter().copied())
            .collect();
        let mut disconnects = Tally::new();
        for reason in outcomes.iter().flat_map(|o| &o.disconnects) {
            *disconnects.entry(reason.label().to_string()).or_default() += 1;
        }
        let sum = |field: fn(&BotOutcome) -> u32| -> u64 {
            outcomes.iter().map(|o| u64::from(field(o))).sum()
        };
        let recovered_disconnects = sum(|o| o.recovered_disconnects);
        let updates: u64 = outcomes.iter().map(|o| o.entity_updates).sum();
        let bytes: u64 = outcomes.iter().map(|o| o.bytes_in).sum();
        let connected_s: f64 = outcomes.iter().map(|o| o.connected.as_secs_f64()).sum();
        let per = |total: u64, over: f64| {
            if over > 0.0 {
                total as f64 / over
            } else {
                0.0
            }
        };
        LoadReport {
            bots: outcomes.len(),
            connected: outcomes.iter().filter(|o| o.welcomes > 0).count(),
            connected_at_end: outcomes.iter().filter(|o| o.connected_at_end).count(),
            resumes: outcomes.iter().map(|o| u64::from(o.resumes)).sum(),
            connect_failures: sum(|o| o.connect_failures),
            recovered_connect_failures: sum(|o| o.recovered_connect_failures),
            corrections: outcomes.iter().map(|o| u64::from(o.corrections)).sum(),
            zones_entered: outcomes.iter().map(|o| u64::from(o.zones_entered)).sum(),
            characters_found: sum(|o| o.characters_found),
            characters_created: sum(|o| o.characters_created),
            rtt: Percentiles::of(&mut rtts),
            entity_updates_per_s: per(updates, wall_seconds),
            entity_updates_per_client_s: per(updates, connected_s),
            bytes_per_client_s: per(bytes, connected_s),
            unexpected_disconnects: disconnects.values().sum::<u64>() - recovered_disconnects,
            recovered_disconnects,
            disconnects,
            wall_seconds,
            fighters: FightSum::of(outcomes.iter().filter(|o| o.kind == Some(Kind::Fighter))),
            brawlers: FightSum::of(outcomes.iter().filter(|o| o.kind == Some(Kind::Brawler))),
            social: SocialSum::of(outcomes.iter()),
            ..LoadReport::default()
        }
    }

    /// Whether the run went as a load test wants: every bot connected and none
    /// dropped, counting as neither what a bot recovered from by reconnecting.
    pub fn clean(&self) -> bool {
        self.unexpected_disconnects == 0
            && self.connect_failures == self.recovered_connect_failures
            && self.login.as_ref().is_none_or(|l| l.failed == 0)
    }

    /// The report as `label  value` lines, for a terminal.
    pub fn table(&self) -> Vec<(String, String)> {
        let mut rows = vec![
            ("bots".into(), format!("{} ({})", self.bots, self.mix)),
            ("moves".into(), format!("{} Hz", self.move_hz)),
            ("connected".into(), self.connected.to_string()),
            ("connected at end".into(), self.connected_at_end.to_string()),
            (
                "connect failures".into(),
                format!(
                    "{} ({} recovered)",
                    self.connect_failures, self.recovered_connect_failures
                ),
            ),
            ("resumes".into(), self.resumes.to_string()),
            ("zones entered".into(), self.zones_entered.to_string()),
            (
                "characters found/new".into(),
                format!("{} / {}", self.characters_found, self.characters_created),
            ),
            ("corrections".into(), self.corrections.to_string()),
            (
                "rtt p50/p99/max".into(),
                format!(
                    "{:.2} / {:.2} / {:.2} ms ({} samples)",
                    self.rtt.p50_ms, self.rtt.p99_ms, self.rtt.max_ms, self.rtt.samples
                ),
            ),
            (
                "entity updates/s".into(),
                format!(
                    "{:.0} total, {:.1} per client",
                    self.entity_updates_per_s, self.entity_updates_per_client_s
                ),
            ),
            (
                "bytes/client/s".into(),
                format!("{:.0}", self.bytes_per_client_s),
            ),
            (
                "disconnects".into(),
                self.disconnects.values().sum::<u64>().to_string(),
            ),
        ];
        for (reason, n) in &self.disconnects {
            rows.push((format!("  {reason}"), n.to_string()));
        }
        rows.push((
            "  recovered (resumed)".into(),
            self.recovered_disconnects.to_string(),
        ));
        rows.push((
            "unexpected disconnects".into(),
            self.unexpected_disconnects.to_string(),
        ));
        if let Some(f) = &self.fighters {
            rows.push(f.row("fighters"));
        }
        if let Some(b) = &self.brawlers {
            rows.push(b.row("brawlers"));
        }
        if let Some(s) = &self.social {
            rows.push(s.row());
        }
        rows.push(("wall time".into(), format!("{:.1} s", self.wall_seconds)));
        if let Some(login) = &self.login {
            rows.extend(login.table());
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::protocol::DisconnectReason;
    use std::time::Duration;

    fn bot(connected_s: u64, bytes: u64, updates: u64) -> BotOutcome {
        BotOutcome {
            welcomes: 1,
            connected_at_end: true,
            connected: Duration::from_secs(connected_s),
            bytes_in: bytes,
            entity_updates: updates,
            ..BotOutcome::default()
        }
    }

    #[test]
    fn rates_are_per_second_connected_and_per_second_of_run() {
        let outcomes = [bot(10, 1_000, 500), bot(30, 5_000, 1_500)];
        let r = LoadReport::summarise(&outcomes, 20.0);
        assert_eq!(r.connected, 2);
        assert_eq!(r.bytes_per_client_s, 6_000.0 / 40.0);
        assert_eq!(r.entity_updates_per_client_s, 2_000.0 / 40.0);
        assert_eq!(r.entity_updates_per_s, 2_000.0 / 20.0);
        assert!(r.clean());
    }

    #[test]
    fn drops_and_failures_are_tallied_and_make_the_run_unclean() {
        let mut dropped = bot(5, 0, 0);
        dropped.connected_at_end = false;
        dropped.disconnects = vec![
            DisconnectReason::IdleTimeout,
            DisconnectReason::ConnectionLost,
        ];
        let mut never = BotOutcome {
            connect_failures: 3,
            ..BotOutcome::default()
        };
        never.rtt_samples_us = vec![1_000, 3_000];
        let r = LoadReport::summarise(&[dropped, never, bot(5, 10, 1)], 5.0);
        assert_eq!(r.connected, 2);
        assert_eq!(r.connected_at_end, 1);
        assert_eq!(r.connect_failures, 3);
        assert_eq!(r.unexpected_disconnects, 2);
        assert_eq!(r.disconnects.len(), 2);
        assert_eq!((r.rtt.samples, r.rtt.max_ms), (2, 3.0));
        assert!(!r.clean());
        let rows = r.table();
        assert!(rows
            .iter()
            .any(|(k, v)| k == "unexpected disconnects" && v == "2"));
    }

    #[test]
    fn what_a_bot_recovered_from_by_reconnecting_leaves_the_run_clean() {
        // `mmo-bots --reconnect`: timed out, two failed connects, then resumed.
        let mut resumed = bot(50, 0, 0);
        resumed.resumes = 1;
        resumed.disconnects = vec![DisconnectReason::IdleTimeout];
        resumed.recovered_disconnects = 1;
        resumed.connect_failures = 2;
        resumed.recovered_connect_failures = 2;
        let r = LoadReport::summarise(&[resumed.clone(), bot(60, 0, 0)], 60.0);
        assert_eq!(r.disconnects.get("idle_timeout"), Some(&1));
        assert_eq!(r.recovered_disconnects, 1);
        assert_eq!(r.unexpected_disconnects, 0);
        assert!(r.clean(), "{r:?}");

        // The same bot without the resume: its disconnect was unexpected.
        let mut lost = resumed;
        lost.recovered_disconnects = 0;
        let r = LoadReport::summarise(&[lost], 60.0);
        assert_eq!(r.unexpected_disconnects, 1);
        assert!(!r.clean());
    }

    #[test]
    fn a_bot_that_never_got_in_after_failed_connects_makes_the_run_unclean() {
        let never = BotOutcome {
            connect_failures: 3,
            ..BotOutcome::default()
        };
        let r = LoadReport::summarise(&[never], 10.0);
        assert_eq!(r.unexpected_disconnects, 0);
        assert!(!r.clean());
    }

    #[test]
    fn a_run_with_no_time_has_zero_rates_not_nan() {
        let r = LoadReport::summarise(&[BotOutcome::default()], 0.0);
        assert_eq!(r.entity_updates_per_s, 0.0);
        assert_eq!(r.bytes_per_client_s, 0.0);
        assert_eq!(r.connected, 0);
    }

    #[test]
    fn json_round_trips() {
        let r = LoadReport::summarise(&[bot(10, 1_000, 500)], 10.0);
        let back: LoadReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
