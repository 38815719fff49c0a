//! Where image work runs: bounded lanes of blocking workers off the async executor,
//! and single-flight so identical concurrent misses share one processing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

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

    /// Whether a job would be refused now (every waiting slot taken).
    pub fn is_full(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) >= self.capacity
    }

    /// Waits for a free worker; refuses at once when the queue is full. Dropping
    /// the future gives its waiting slot back.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::QueueFull { retry_after_secs: 2 });
        }
        let _slot = WaitSlot(&self.waiting);
        self.permits.clone().acquire_owned().await.map_err(|_| ApiError::Internal(format!("{} lane closed", self.name)))
    }

    /// Runs `f` on a blocking thread once a worker is free; refuses at once when
    /// the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.acquire().await?;
        run_blocking(permit, f).await
    }

    /// Stops taking work; waits for running jobs to finish.
    pub async fn drain(&self, workers: usize) {
        let _ = self.permits.acquire_many(workers as u32).await;
    }
}

/// Runs `f` on a blocking thread, holding a lane's worker `permit` until it ends.
pub async fn run_blocking<T, F>(permit: OwnedSemaphorePermit, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))
}

/// Tells a background job that a client now waits for it, so that it moves to the
/// urgent lane instead of queueing behind pre-heat work.
#[derive(Clone, Debug)]
pub struct Urgency(watch::Receiver<bool>);

impl Urgency {
    pub fn is_urgent(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the job became urgent; never, if it does not.
    pub async fn became_urgent(&mut self) {
        if self.0.wait_for(|urgent| *urgent).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

pub type Outcome = Result<(), Arc<ApiError>>;
type Flight = Shared<BoxFuture<'static, Outcome>>;

/// A job in flight: its shared outcome and the sender of its urgency.
type InFlight = (Flight, watch::Sender<bool>);

/// In-flight jobs by cache key.
#[derive(Clone, Default)]
pub struct Flights {
    map: Arc<Mutex<HashMap<String, InFlight>>>,
}

impl Flights {
    /// Joins the job for `key`, or starts it with `work` (spawned, so it completes
    /// even if every waiter goes away). An `urgent` waiter (a GET) marks the job
    /// urgent, which `work` can watch through its `Urgency`. Returns the shared
    /// outcome and whether an existing job was joined.
    pub fn join<F>(&self, key: &str, urgent: bool, work: impl FnOnce(Urgency) -> F) -> (Flight, bool)
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let mut map = self.map.lock().expect("flights lock");
        if let Some((f, urgency)) = map.get(key) {
            if urgent {
                urgency.send_replace(true);
            }
            return (f.clone(), true);
        }
        let (urgency, watcher) = watch::channel(urgent);
        let flights = self.clone();
        let owned_key = key.to_string();
        let fut = work(Urgency(watcher));
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
        map.insert(key.to_string(), (shared.clone(), urgency));
        (shared, false)
    }

    /// Whether a job for `key` is in flight.
    pub fn contains(&self, key: &str) -> bool {
        self.map.lock().expect("flights lock").contains_key(key)
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
            let (f, joined) = flights.join("k", false, move |_| async move {
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
    async fn an_urgent_waiter_promotes_the_job() {
        let flights = Flights::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<bool>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let (bg, joined) = flights.join("k", false, move |mut urgency| async move {
            assert!(!urgency.is_urgent());
            started_tx.send(()).unwrap();
            let promoted = tokio::time::timeout(Duration::from_secs(5), urgency.became_urgent()).await.is_ok();
            tx.send(promoted).unwrap();
            Ok(())
        });
        assert!(!joined);
        started_rx.await.unwrap();
        // Had this work run instead of joining, the GET would get its error.
        let (get, joined) =
            flights.join("k", true, |_| async { Err(Arc::new(ApiError::Internal("started twice".into()))) });
        assert!(joined);
        assert!(rx.await.unwrap(), "the job saw the GET waiting");
        assert!(get.await.is_ok() && bg.await.is_ok());
        assert!(!flights.contains("k"));
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
        assert!(lane.is_full());
        assert!(matches!(lane.run(|| 2).await, Err(ApiError::QueueFull { .. })));
        tx.send(()).unwrap();
        assert!(busy.await.unwrap().is_ok());
        assert_eq!(queued.await.unwrap().unwrap(), 1);
        assert_eq!(lane.waiting(), 0);
    }
}
