//! Where image work runs: bounded lanes of blocking workers off the async executor,
//! and single-flight so identical concurrent misses share one processing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// A pool of `workers` blocking threads with at most `capacity` jobs waiting.
pub struct Lane {
    name: &'static str,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    capacity: usize,
}

/// Releases a waiting slot however the wait ends (success, cancel, error).
struct WaitSlot<'a>(&'a AtomicUsize);
impl Drop for WaitSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Lane {
    pub fn new(name: &'static str, workers: usize, capacity: usize) -> Lane {
        Lane { name, permits: Arc::new(Semaphore::new(workers.max(1))), waiting: AtomicUsize::new(0), capacity }
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Runs `f` on a blocking thread once a worker is free; refuses at once when
    /// the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::QueueFull { retry_after_secs: 2 });
        }
        let slot = WaitSlot(&self.waiting);
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal(format!("{} lane closed", self.name)))?;
        drop(slot);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))
    }

    /// Stops taking work; waits for running jobs to finish.
    pub async fn drain(&self, workers: usize) {
        let _ = self.permits.acquire_many(workers as u32).await;
    }
}

pub type Outcome = Result<(), Arc<ApiError>>;
type Flight = Shared<BoxFuture<'static, Outcome>>;

/// In-flight jobs by cache key.
#[derive(Clone, Default)]
pub struct Flights {
    map: Arc<Mutex<HashMap<String, Flight>>>,
}

impl Flights {
    /// Joins the job for `key`, or starts it with `work` (spawned, so it completes
    /// even if every waiter goes away). Returns the shared outcome and whether an
    /// existing job was joined.
    pub fn join<F>(&self, key: &str, work: impl FnOnce() -> F) -> (Flight, bool)
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let mut map = self.map.lock().expect("flights lock");
        if let Some(f) = map.get(key) {
            return (f.clone(), true);
        }
        let flights = self.clone();
        let owned_key = key.to_string();
        let fut = work();
        let handle = tokio::spawn(async move {
            let out = fut.await;
            flights.map.lock().expect("flights lock").remove(&owned_key);
            out
        });
        let shared = async move {
            handle.await.unwrap_or_else(|e| Err(Arc::new(ApiError::Internal(format!("job failed: {e}")))))
        }
        .boxed()
        .shared();
        map.insert(key.to_string(), shared.clone());
        (shared, false)
    }

    pub fn len(&self) -> usize {
        self.map.lock().expect("flights lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    #[tokio::test]
    async fn identical_jobs_run_once() {
        let flights = Flights::default();
        let runs = Arc::new(AtomicU32::new(0));
        let mut waiters = Vec::new();
        let mut coalesced = 0;
        for _ in 0..10 {
            let r = runs.clone();
            let (f, joined) = flights.join("k", move || async move {
                r.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(())
            });
            coalesced += joined as u32;
            waiters.push(f);
        }
        for w in waiters {
            assert!(w.await.is_ok());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(coalesced, 9);
        assert!(flights.is_empty());
    }

    #[tokio::test]
    async fn full_lane_refuses() {
        let lane = Arc::new(Lane::new("t", 1, 1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let l = lane.clone();
        let busy = tokio::spawn(async move { l.run(move || rx.recv().ok()).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let l = lane.clone();
        let queued = tokio::spawn(async move { l.run(|| 1).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(lane.run(|| 2).await, Err(ApiError::QueueFull { .. })));
        tx.send(()).unwrap();
        assert!(busy.await.unwrap().is_ok());
        assert_eq!(queued.await.unwrap().unwrap(), 1);
        assert_eq!(lane.waiting(), 0);
    }
}
