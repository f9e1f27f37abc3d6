//! Argon2 off the async threads: each job runs on tokio's blocking pool,
//! at most `concurrency` at once, with at most `queue` more waiting. One more
//! is refused at once ([`Busy`]) instead of queueing without bound.

use super::metrics::LoginMetrics;
use game_core::auth::HashMemory;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

thread_local! {
    /// Argon2's working memory on this blocking thread, reused by every job
    /// it runs (19 MiB at the OWASP cost): the runtime has at most 8
    /// blocking threads, so at most 8 of these.
    static MEMORY: RefCell<HashMemory> = const { RefCell::new(Vec::new()) };
}

/// Every hashing slot and queue place is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

#[derive(Debug)]
pub(crate) struct HashPool {
    /// Jobs running or waiting: `concurrency + queue` permits.
    admitted: Arc<Semaphore>,
    /// Jobs running: `concurrency` permits.
    running: Arc<Semaphore>,
    metrics: Arc<LoginMetrics>,
}

impl HashPool {
    pub(crate) fn new(concurrency: usize, queue: usize, metrics: Arc<LoginMetrics>) -> Self {
        let concurrency = concurrency.max(1);
        HashPool {
            admitted: Arc::new(Semaphore::new(concurrency + queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            metrics,
        }
    }

    /// Runs `job` on a blocking thread once a slot is free. If the caller
    /// stops waiting (its request timed out), a job already running finishes
    /// and keeps its slot until then: the bound holds for abandoned work too.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, Busy>
    where
        F: FnOnce(&mut HashMemory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let metrics = self.metrics.clone();
        let task = tokio::task::spawn_blocking(move || {
            let start = Instant::now();
            let out = MEMORY.with(|memory| job(&mut memory.borrow_mut()));
            metrics.hashed(start.elapsed().as_micros().min(u64::MAX as u128) as u64);
            drop((running, admitted));
            out
        });
        // A panic in Argon2 would be our bug: pass it on.
        Ok(task
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_slots_and_the_queue_a_job_is_refused_busy() {
        let pool = Arc::new(HashPool::new(1, 1, Arc::default()));
        let (release, wait) = mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let running = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move |_| {
                    started_tx.send(()).unwrap();
                    wait.recv().unwrap();
                })
                .await
            })
        };
        started.await.unwrap();
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|_| 7).await })
        };
        // Wait until the queued job holds its queue place.
        while pool.admitted.available_permits() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(pool.run(|_| 8).await, Err(Busy));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(()));
        assert_eq!(queued.await.unwrap(), Ok(7));
        assert_eq!(pool.run(|_| 9).await, Ok(9));
        assert_eq!(pool.metrics.snapshot().hashes, 3);
    }
}
