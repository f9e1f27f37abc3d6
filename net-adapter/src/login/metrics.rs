//! The login service's counters: plain atomics, read with [`LoginMetrics::snapshot`]
//! (the server exports them with its other metrics).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a request was refused, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown name or wrong password (401).
    BadCredentials,
    /// A per-address or per-account limiter said no (429).
    RateLimited,
    /// Every hashing slot and queue place was taken (503).
    Busy,
    /// `client_version` below the minimum (426).
    TooOld,
    /// A body that is not JSON or misses fields, a bad name, a weak password,
    /// too large, too slow, an unknown route, a leaderboard query out of
    /// bounds (4xx).
    Invalid,
    /// Registration of a name that exists (409).
    NameTaken,
    /// The account store did not answer (503).
    StoreUnavailable,
}

#[derive(Debug, Default)]
pub struct LoginMetrics {
    registrations: AtomicU64,
    logins_ok: AtomicU64,
    leaderboards: AtomicU64,
    bad_credentials: AtomicU64,
    rate_limited: AtomicU64,
    busy: AtomicU64,
    too_old: AtomicU64,
    invalid: AtomicU64,
    name_taken: AtomicU64,
    store_unavailable: AtomicU64,
    hashes: AtomicU64,
    hash_time_us: AtomicU64,
    hash_time_max_us: AtomicU64,
}

/// The counters at one moment. Totals since start; `hash_time_us` sums the
/// time of every Argon2 job (hash or verify) on its blocking thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginMetricsSnapshot {
    pub registrations: u64,
    pub logins_ok: u64,
    /// Leaderboards answered (200).
    pub leaderboards: u64,
    pub bad_credentials: u64,
    pub rate_limited: u64,
    pub busy: u64,
    pub too_old: u64,
    pub invalid: u64,
    pub name_taken: u64,
    pub store_unavailable: u64,
    pub hashes: u64,
    pub hash_time_us: u64,
    pub hash_time_max_us: u64,
}

impl LoginMetrics {
    pub fn snapshot(&self) -> LoginMetricsSnapshot {
        LoginMetricsSnapshot {
            registrations: self.registrations.load(Relaxed),
            logins_ok: self.logins_ok.load(Relaxed),
            leaderboards: self.leaderboards.load(Relaxed),
            bad_credentials: self.bad_credentials.load(Relaxed),
            rate_limited: self.rate_limited.load(Relaxed),
            busy: self.busy.load(Relaxed),
            too_old: self.too_old.load(Relaxed),
            invalid: self.invalid.load(Relaxed),
            name_taken: self.name_taken.load(Relaxed),
            store_unavailable: self.store_unavailable.load(Relaxed),
            hashes: self.hashes.load(Relaxed),
            hash_time_us: self.hash_time_us.load(Relaxed),
            hash_time_max_us: self.hash_time_max_us.load(Relaxed),
        }
    }

    pub(crate) fn registered(&self) {
        self.registrations.fetch_add(1, Relaxed);
    }

    pub(crate) fn logged_in(&self) {
        self.logins_ok.fetch_add(1, Relaxed);
    }

    pub(crate) fn leaderboard_served(&self) {
        self.leaderboards.fetch_add(1, Relaxed);
    }

    pub(crate) fn refused(&self, why: Refusal) {
        let counter = match why {
            Refusal::BadCredentials => &self.bad_credentials,
            Refusal::RateLimited => &self.rate_limited,
            Refusal::Busy => &self.busy,
            Refusal::TooOld => &self.too_old,
            Refusal::Invalid => &self.invalid,
            Refusal::NameTaken => &self.name_taken,
            Refusal::StoreUnavailable => &self.store_unavailable,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn hashed(&self, micros: u64) {
        self.hashes.fetch_add(1, Relaxed);
        self.hash_time_us.fetch_add(micros, Relaxed);
        self.hash_time_max_us.fetch_max(micros, Relaxed);
    }
}
