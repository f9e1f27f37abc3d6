//! The simulator's side of persistence and logins: intents to the faulty
//! store and its outcomes back to the node in virtual time, the login
//! service's tokens for every connect that cannot resume, hostile bots'
//! bad tokens, and what the persistence checker is fed.

use super::login::{password_of, BadToken, LoginError};
use super::{Ev, Simulator};
use game_core::node::NodeEvent;
use game_core::persist::{Change, Intent, Reply};
use game_core::protocol::{Credentials, DisconnectReason, LoginRefusal, TokenRefusal};
use game_core::time::{Duration, Instant};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a bot logs in when it cannot resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LoginMode {
    /// Registers once, then a fresh token from the login service each time.
    Token,
    /// A hostile bot: one bad token first, then development logins.
    BadFirst(BadToken),
    /// A development login (trusted name).
    Dev,
}

impl LoginMode {
    /// Honest bots use tokens; each hostile kind tries one kind of bad token.
    pub(super) fn for_kind(kind: super::policy::Kind) -> LoginMode {
        use super::policy::Kind;
        match kind {
            Kind::SpeedHacker | Kind::SlowReader => LoginMode::BadFirst(BadToken::Forged),
            Kind::Teleporter | Kind::Garbage => LoginMode::BadFirst(BadToken::Expired),
            Kind::Flooder => LoginMode::BadFirst(BadToken::Replayed),
            _ => LoginMode::Token,
        }
    }
}

/// Bad tokens of one kind: tried, refused for the expected reason, or the
/// connection ended before any answer (a partition, a restart).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BadTokenTally {
    pub tried: u64,
    pub refused: u64,
    pub unanswered: u64,
}

/// A replay waits this long for an honest bot's used token before it falls
/// back to a forged one.
const REPLAY_PATIENCE: Duration = Duration::from_secs(5);

fn expected_refusal(kind: BadToken) -> TokenRefusal {
    match kind {
        BadToken::Forged => TokenRefusal::BadSignature,
        BadToken::Expired => TokenRefusal::Expired,
        BadToken::Replayed => TokenRefusal::Replayed,
    }
}

impl Simulator {
    /// An intent from the node: into the store's queue (tagged with the
    /// node's incarnation), its commit on the agenda.
    pub(super) fn submit_intent(&mut self, intent: Intent) {
        if let Change::SaveCharacter {
            character,
            version,
            state,
        } = &intent.change
        {
            self.persist.save_sent(*character, *version, state);
        }
        match self.store.submit(self.now, self.restarts, intent) {
            Ok(Some(commit)) => self.push(commit.at, Ev::StoreCommit(commit.generation)),
            Ok(None) => {}
            Err(refused) => self.outcomes.push(refused),
        }
    }

    /// A commit ends: its outcomes reach the node that is up.
    pub(super) fn store_commit(&mut self, generation: u64) {
        let (outcomes, next) = self.store.commit(self.now, generation);
        if let Some(commit) = next {
            self.push(commit.at, Ev::StoreCommit(commit.generation));
        }
        for (epoch, outcome) in outcomes {
            if self.store.reaches(epoch, self.restarts) {
                self.outcomes.push(outcome);
            }
        }
        self.node_io();
    }

    /// Hands the node every outcome waiting for it (the node's outputs are
    /// drained by the caller).
    pub(super) fn deliver_outcomes(&mut self) {
        while !self.outcomes.is_empty() {
            for outcome in std::mem::take(&mut self.outcomes) {
                if let Ok(Reply::Character(record)) = &outcome.result {
                    if let Err(e) = self.persist.loaded(record) {
                        self.checker.report(self.now, e);
                    }
                }
                self.node.handle_store_outcome(self.now, outcome);
            }
        }
    }

    pub(super) fn store_crash(&mut self, index: u32) {
        let down = self.plan.store.crashes[index as usize].1;
        let back = self.store.crash(self.now, down);
        self.push(back, Ev::StoreUp);
    }

    pub(super) fn node_event(&mut self, event: &NodeEvent) {
        if let NodeEvent::CharacterSaved {
            character, version, ..
        } = *event
        {
            if let Err(e) = self.persist.saved(character, version) {
                self.checker.report(self.now, e);
            }
        }
    }

    /// The persistence invariants, at each check.
    pub(super) fn check_persistence(&mut self) {
        let store = self.store.committed();
        let mut failures = self.persist.check_store(store);
        let players = self.node.players().map(|p| (p.id, p.account, p.character));
        failures.extend(self.persist.check_players(players, store));
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    /// Before a connect: the credentials a login needs (none for a resume).
    /// False when there are none yet: a retry is on the agenda.
    pub(super) fn prepare_login(&mut self, i: u32) -> bool {
        let now = self.now;
        let p = &mut self.peers[i as usize];
        if p.client.can_resume() {
            return true;
        }
        let name = format!("bot{i}");
        match p.login {
            LoginMode::Dev => {
                p.client.set_credentials(Credentials::Dev { name });
                true
            }
            LoginMode::BadFirst(kind) => {
                let token = match self.login.bad_token(kind, now, &name) {
                    Some(t) => (kind, t),
                    None if now < Instant::ZERO + REPLAY_PATIENCE => {
                        self.retry_connect(i, Duration::from_millis(500));
                        return false;
                    }
                    None => {
                        let t = self.login.bad_token(BadToken::Forged, now, &name);
                        (BadToken::Forged, t.expect("a forged token"))
                    }
                };
                self.bad_tokens.entry(token.0).or_default().tried += 1;
                let p = &mut self.peers[i as usize];
                p.bad_attempt = Some(token.0);
                p.login = LoginMode::Dev;
                p.client
                    .set_credentials(Credentials::Token { token: token.1 });
                true
            }
            LoginMode::Token => {
                let password = password_of(self.config.seed, i);
                let up = !self.store.is_down();
                if !p.registered {
                    let store = up.then(|| self.store.committed_mut());
                    match self.login.register(store, &name, &password) {
                        Ok(()) => self.peers[i as usize].registered = true,
                        Err(e) => return self.login_failed(i, e),
                    }
                }
                let store = up.then(|| self.store.committed());
                match self.login.login(store, now, &name, &password) {
                    Ok(token) => {
                        self.peers[i as usize]
                            .client
                            .set_credentials(Credentials::Token { token });
                        true
                    }
                    Err(e) => self.login_failed(i, e),
                }
            }
        }
    }

    fn login_failed(&mut self, i: u32, e: LoginError) -> bool {
        match e {
            // The database is down: the bot tries again in a second.
            LoginError::Unavailable => self.retry_connect(i, Duration::from_secs(1)),
            LoginError::Refused => self.checker.report(
                self.now,
                format!("login service refused honest bot {i}'s own password"),
            ),
        }
        false
    }

    fn retry_connect(&mut self, i: u32, after: Duration) {
        self.peers[i as usize].reconnect_pending = true;
        self.push(self.now + after, Ev::Reconnect(i));
    }

    /// A bot was welcomed: a token it logged in with is used (and may be
    /// replayed by a hostile bot, to be refused); a bad token must never be.
    pub(super) fn welcomed(&mut self, i: u32, resumed: bool) {
        let p = &mut self.peers[i as usize];
        if let Some(kind) = p.bad_attempt.take() {
            self.checker
                .report(self.now, format!("bot {i}'s {kind} token was accepted"));
            return;
        }
        if let (false, LoginMode::Token, Credentials::Token { token }) =
            (resumed, p.login, &p.client.config().credentials)
        {
            self.login.token_used(token);
        }
    }

    /// A bot's connection ended with `reason`. True when it was a hostile
    /// bot's bad-token attempt (tallied here, not as the bot's disconnect);
    /// its real login follows.
    pub(super) fn bad_attempt_ended(&mut self, i: u32, reason: &DisconnectReason) -> bool {
        let p = &mut self.peers[i as usize];
        let Some(kind) = p.bad_attempt.take() else {
            return false;
        };
        let tally = self.bad_tokens.entry(kind).or_default();
        match reason {
            DisconnectReason::LoginRefused(LoginRefusal::Token(r))
                if *r == expected_refusal(kind) =>
            {
                tally.refused += 1
            }
            DisconnectReason::LoginRefused(LoginRefusal::Token(r)) => self.checker.report(
                self.now,
                format!("bot {i}'s {kind} token was refused as {r:?}"),
            ),
            _ => tally.unanswered += 1,
        }
        true
    }

    /// The bad-token attempt is over: the real login next.
    pub(super) fn after_bad_attempt(&mut self, i: u32) {
        let p = &mut self.peers[i as usize];
        if !p.reconnect_pending {
            p.reconnect_pending = true;
            self.push(self.now + Duration::from_secs(1), Ev::Reconnect(i));
        }
    }

    /// The node's refusals of bad tokens, over every incarnation.
    pub(super) fn node_token_refusals(&self) -> u64 {
        let mut total: BTreeMap<&str, u64> = self.refusals_before_restart.clone();
        for (k, v) in &self.node.stats().login_refusals {
            *total.entry(k).or_default() += v;
        }
        total
            .iter()
            .filter(|(k, _)| k.starts_with("token_"))
            .map(|(_, v)| v)
            .sum()
    }

    /// At the end: the node refused every bad token that reached it and no
    /// honest one (its count of token refusals lies between what the bots
    /// heard and what they tried).
    pub(super) fn check_token_refusals(&mut self) {
        let tried: u64 = self.bad_tokens.values().map(|t| t.tried).sum();
        let heard: u64 = self.bad_tokens.values().map(|t| t.refused).sum();
        let node = self.node_token_refusals();
        if node < heard || node > tried {
            self.checker.report(
                self.now,
                format!("token refusals: the node counted {node}, bots tried {tried} bad tokens and heard {heard} refusals"),
            );
        }
    }

    pub(super) fn count_refusals_before_restart(&mut self) {
        for (k, v) in &self.node.stats().login_refusals {
            *self.refusals_before_restart.entry(k).or_default() += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::simulator::{FaultMode, SimConfig, SimReport, Simulator};

    fn run(bots: usize, seconds: u64, seed: u64, check: impl Fn(&Simulator)) -> SimReport {
        let sim = Simulator::new(SimConfig::new(bots, seconds, seed, FaultMode::Swarm));
        check(&sim);
        let r = sim.run(|_| {});
        assert_eq!(r.invariant_violations, 0, "{:#?}", r.violations);
        assert_eq!(
            r.honest_in_world, r.honest_bots,
            "every honest bot plays at the end"
        );
        for t in r.bad_tokens.values() {
            assert_eq!(t.refused + t.unanswered, t.tried, "{:?}", r.bad_tokens);
        }
        assert!(r.node_token_refusals > 0);
        r
    }

    #[test]
    fn a_store_crash_and_a_node_restart_lose_no_acknowledged_save() {
        // Seed 21: the node restarts at 9 s; the store crashes at 19.7 s for 7 s.
        let r = run(60, 60, 21, |sim| {
            assert_eq!(sim.plan().restarts.len(), 1);
            assert_eq!(sim.plan().store.crashes.len(), 1);
        });
        assert_eq!(r.store.crashes, 1);
        assert!(r.store.lost > 0, "intents lost unanswered: {:?}", r.store);
        assert!(r.persistence.saves_acknowledged > 0);
        assert!(r.persistence.loads_after_restart > 0, "{:?}", r.persistence);
        assert!(r.persistence.players_checked > 0);
    }

    #[test]
    fn a_failing_store_refuses_logins_and_bots_log_in_again_with_fresh_tokens() {
        // Seed 5: a quick store whose commits fail 30% of the time.
        let token_bots = std::cell::Cell::new(0);
        let r = run(60, 30, 5, |sim| {
            assert!(sim.plan().store.fail_per_10k > 0);
            assert!(sim.plan().store.crashes.is_empty());
            // The honest, and the hostile kinds that log in with good tokens.
            let n = sim
                .peers
                .iter()
                .filter(|p| p.login == super::LoginMode::Token);
            token_bots.set(n.count() as u64);
        });
        assert!(r.store.failed_batches > 0, "{:?}", r.store);
        assert!(r.login.tokens > r.honest_bots as u64, "{:?}", r.login);
        assert_eq!(r.login.registered, token_bots.get());
    }
}
