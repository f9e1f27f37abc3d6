//! Group commit: one task in front of a [`Store`], a bounded queue before it.

use super::Store;
use game_core::persist::{Intent, Outcome};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The worker's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Intents that may wait for the worker; past that `try_submit` refuses.
    pub queue_capacity: usize,
    /// The most intents one transaction applies.
    pub max_batch: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            queue_capacity: 4096,
            max_batch: 512,
        }
    }
}

/// Why an intent was not queued; the intent comes back, untouched.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue holds `queue_capacity` intents: the store is behind. Refuse
    /// the work that needs it (the node's `StoreUnavailable`), retry later.
    Full(Intent),
    /// The worker has stopped (the server is shutting down).
    Closed(Intent),
}

impl SubmitError {
    pub fn into_intent(self) -> Intent {
        match self {
            SubmitError::Full(intent) | SubmitError::Closed(intent) => intent,
        }
    }
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Full(i) => write!(f, "store queue full; {:?} refused", i.id),
            SubmitError::Closed(i) => write!(f, "store worker stopped; {:?} refused", i.id),
        }
    }
}

impl std::error::Error for SubmitError {}

/// What the worker has done, for the metrics. Counters only grow.
#[derive(Debug, Default)]
pub struct StoreStats {
    batches: AtomicU64,
    intents: AtomicU64,
    failed_batches: AtomicU64,
    refused_full: AtomicU64,
    largest_batch: AtomicU64,
    commit_us_total: AtomicU64,
    commit_us_last: AtomicU64,
    commit_us_max: AtomicU64,
}

/// A reading of [`StoreStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStatsSnapshot {
    /// Transactions committed or failed.
    pub batches: u64,
    /// Intents answered (failed batches included).
    pub intents: u64,
    /// Transactions that failed: each of their intents answered `Unavailable`.
    pub failed_batches: u64,
    /// `try_submit` calls refused because the queue was full.
    pub refused_full: u64,
    pub largest_batch: u64,
    /// Time from the batch's start to its commit (or failure), in µs: summed
    /// over batches (divide by `batches` for the mean), the last, the largest.
    pub commit_us_total: u64,
    pub commit_us_last: u64,
    pub commit_us_max: u64,
}

impl StoreStats {
    pub fn snapshot(&self) -> StoreStatsSnapshot {
        StoreStatsSnapshot {
            batches: self.batches.load(Relaxed),
            intents: self.intents.load(Relaxed),
            failed_batches: self.failed_batches.load(Relaxed),
            refused_full: self.refused_full.load(Relaxed),
            largest_batch: self.largest_batch.load(Relaxed),
            commit_us_total: self.commit_us_total.load(Relaxed),
            commit_us_last: self.commit_us_last.load(Relaxed),
            commit_us_max: self.commit_us_max.load(Relaxed),
        }
    }

    fn batch(&self, size: usize, failed: bool, us: u64) {
        self.batches.fetch_add(1, Relaxed);
        self.intents.fetch_add(size as u64, Relaxed);
        if failed {
            self.failed_batches.fetch_add(1, Relaxed);
        }
        self.largest_batch.fetch_max(size as u64, Relaxed);
        self.commit_us_total.fetch_add(us, Relaxed);
        self.commit_us_last.store(us, Relaxed);
        self.commit_us_max.fetch_max(us, Relaxed);
    }
}

/// The way into a store's group-commit worker. Cheap to clone; the worker
/// stops once every handle is dropped and the queue is drained.
#[derive(Clone, Debug)]
pub struct StoreHandle {
    queue: mpsc::Sender<Intent>,
    stats: Arc<StoreStats>,
}

impl StoreHandle {
    /// Starts the worker on the current tokio runtime. Every intent's outcome
    /// is sent to `outcomes`, in the order the intents were queued; the
    /// worker waits for room there (so the caller's channel bounds it too).
    /// The join handle ends when the worker does.
    pub fn spawn(
        store: Store,
        config: WorkerConfig,
        outcomes: mpsc::Sender<Outcome>,
    ) -> (StoreHandle, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(config.queue_capacity.max(1));
        let stats = Arc::new(StoreStats::default());
        let worker = tokio::spawn(run(
            store,
            config.max_batch.max(1),
            rx,
            outcomes,
            Arc::clone(&stats),
        ));
        (StoreHandle { queue, stats }, worker)
    }

    /// Queues an intent, or hands it back at once if the queue is full.
    pub fn try_submit(&self, intent: Intent) -> Result<(), SubmitError> {
        self.queue.try_send(intent).map_err(|e| match e {
            mpsc::error::TrySendError::Full(intent) => {
                self.stats.refused_full.fetch_add(1, Relaxed);
                SubmitError::Full(intent)
            }
            mpsc::error::TrySendError::Closed(intent) => SubmitError::Closed(intent),
        })
    }

    /// Intents waiting for the worker (not counting the batch it is applying).
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    pub fn queue_capacity(&self) -> usize {
        self.queue.max_capacity()
    }

    pub fn stats(&self) -> &Arc<StoreStats> {
        &self.stats
    }
}

async fn run(
    store: Store,
    max_batch: usize,
    mut queue: mpsc::Receiver<Intent>,
    outcomes: mpsc::Sender<Outcome>,
    stats: Arc<StoreStats>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut listening = true;
    // Everything waiting now, up to max_batch; `recv_many` waits only for the first.
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        let start = Instant::now();
        let (answers, failed) = store.apply_batch_reporting(&batch).await;
        let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats.batch(batch.len(), failed, us);
        batch.clear();
        for outcome in answers {
            // The intents are committed either way; with no one listening
            // (shutting down) their outcomes have nowhere to go.
            if listening && outcomes.send(outcome).await.is_err() {
                listening = false;
            }
        }
    }
}
