//! Metrics of logins, the login service and the store: refusals by reason,
//! the store's queue, pending intents and commit latency.

use crate::login::LoginMetrics;
use crate::store::StoreStats;
use game_core::node::Node;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Default)]
pub(super) struct AccountMetrics {
    login_refusals: Family<Labels, Counter>,
    character_refusals: Counter,
    store_intents: Family<Labels, Counter>,
    store_pending: Gauge,
    store_queue_depth: Gauge,
    store_queue_capacity: Gauge,
    store_batches: Family<Labels, Counter>,
    store_commit_seconds: Counter<f64, AtomicU64>,
    store_commit_seconds_last: Gauge<f64, AtomicU64>,
    store_commit_seconds_max: Gauge<f64, AtomicU64>,
    store_largest_batch: Gauge,
    http: Family<Labels, Counter>,
    http_hash_seconds: Counter<f64, AtomicU64>,
    store: OnceLock<(Arc<StoreStats>, usize)>,
    login: OnceLock<Arc<LoginMetrics>>,
}

impl AccountMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "login_refusals",
            "Game logins refused, by reason",
            self.login_refusals.clone(),
        );
        r.register(
            "character_refusals",
            "Character screen requests refused",
            self.character_refusals.clone(),
        );
        r.register(
            "store_intents",
            "Persistence intents by outcome (issued, acknowledged, failed, timed_out, unexpected, dropped)",
            self.store_intents.clone(),
        );
        r.register(
            "store_pending_intents",
            "Intents waiting for the store's answer",
            self.store_pending.clone(),
        );
        r.register(
            "store_queue_depth",
            "Intents queued in front of the store's worker",
            self.store_queue_depth.clone(),
        );
        r.register(
            "store_queue_capacity",
            "The bound of that queue",
            self.store_queue_capacity.clone(),
        );
        r.register(
            "store_batches",
            "Store transactions (group commits), by result",
            self.store_batches.clone(),
        );
        r.register(
            "store_commit_seconds",
            "Time spent in store transactions, summed (divide by store_batches for the mean)",
            self.store_commit_seconds.clone(),
        );
        r.register(
            "store_commit_seconds_last",
            "The last store transaction's time",
            self.store_commit_seconds_last.clone(),
        );
        r.register(
            "store_commit_seconds_max",
            "The longest store transaction so far",
            self.store_commit_seconds_max.clone(),
        );
        r.register(
            "store_largest_batch",
            "The most intents one transaction committed",
            self.store_largest_batch.clone(),
        );
        r.register(
            "login_http_requests",
            "Login service answers, by outcome",
            self.http.clone(),
        );
        r.register(
            "login_http_hash_seconds",
            "Time spent hashing and verifying passwords (Argon2id)",
            self.http_hash_seconds.clone(),
        );
    }

    /// Reads the store worker's counters from now on; `capacity` is its queue's.
    pub(super) fn attach_store(&self, stats: Arc<StoreStats>, capacity: usize) {
        let _ = self.store.set((stats, capacity));
    }

    pub(super) fn attach_login(&self, login: Arc<LoginMetrics>) {
        let _ = self.login.set(login);
    }

    pub(super) fn refresh(&self, node: &Node, store_queue: usize) {
        let s = node.stats();
        for (reason, n) in &s.login_refusals {
            set(
                &self.login_refusals.get_or_create(&label("reason", reason)),
                *n,
            );
        }
        set(&self.character_refusals, s.character_refusals);
        for (outcome, n) in [
            ("issued", s.store_intents),
            ("acknowledged", s.store_acknowledged),
            ("failed", s.store_failed),
            ("timed_out", s.store_timeouts),
            ("unexpected", s.store_unexpected),
            ("dropped", s.store_dropped),
        ] {
            set(
                &self.store_intents.get_or_create(&label("outcome", outcome)),
                n,
            );
        }
        self.store_pending.set(node.pending_intents() as i64);
        if let Some((stats, capacity)) = self.store.get() {
            let w = stats.snapshot();
            self.store_queue_depth.set(store_queue as i64);
            self.store_queue_capacity.set(*capacity as i64);
            let ok = w.batches - w.failed_batches;
            for (result, n) in [("committed", ok), ("failed", w.failed_batches)] {
                set(
                    &self.store_batches.get_or_create(&label("result", result)),
                    n,
                );
            }
            set_f64(&self.store_commit_seconds, w.commit_us_total as f64 / 1e6);
            self.store_commit_seconds_last
                .set(w.commit_us_last as f64 / 1e6);
            self.store_commit_seconds_max
                .set(w.commit_us_max as f64 / 1e6);
            self.store_largest_batch.set(w.largest_batch as i64);
        }
        if let Some(login) = self.login.get() {
            let l = login.snapshot();
            for (outcome, n) in [
                ("registered", l.registrations),
                ("logged_in", l.logins_ok),
                ("leaderboard", l.leaderboards),
                ("bad_credentials", l.bad_credentials),
                ("rate_limited", l.rate_limited),
                ("busy", l.busy),
                ("too_old", l.too_old),
                ("invalid", l.invalid),
                ("name_taken", l.name_taken),
                ("store_unavailable", l.store_unavailable),
            ] {
                set(&self.http.get_or_create(&label("outcome", outcome)), n);
            }
            set_f64(&self.http_hash_seconds, l.hash_time_us as f64 / 1e6);
        }
    }
}

fn label(key: &'static str, value: &str) -> Labels {
    vec![(key, value.to_owned())]
}

/// Counters here mirror totals kept elsewhere, so they are set, not added to.
fn set(counter: &Counter, total: u64) {
    counter.inner().store(total, Ordering::Relaxed);
}

fn set_f64(counter: &Counter<f64, AtomicU64>, total: f64) {
    counter.inner().store(total.to_bits(), Ordering::Relaxed);
}
