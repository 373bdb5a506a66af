//! Per-host politeness: at most `per_host` requests in flight to one host,
//! and a minimum spacing between the starts of two requests to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

#[derive(Debug)]
struct HostSlot {
    permits: Arc<Semaphore>,
    next_start: tokio::sync::Mutex<Instant>,
}

/// The pacing state of every host seen.
#[derive(Debug)]
pub struct HostPacing {
    per_host: usize,
    min_interval: Duration,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

impl HostPacing {
    pub fn new(per_host: usize, min_interval: Duration) -> Self {
        HostPacing {
            per_host: per_host.max(1),
            min_interval,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Wait for a slot on `host`; the request may start when this returns
    /// and holds the slot until the permit is dropped.
    pub async fn acquire(&self, host: &str) -> Option<OwnedSemaphorePermit> {
        let slot = {
            let mut hosts = self.hosts.lock().ok()?;
            Arc::clone(hosts.entry(host.to_ascii_lowercase()).or_insert_with(|| {
                Arc::new(HostSlot {
                    permits: Arc::new(Semaphore::new(self.per_host)),
                    next_start: tokio::sync::Mutex::new(Instant::now()),
                })
            }))
        };
        let permit = Arc::clone(&slot.permits).acquire_owned().await.ok()?;
        if !self.min_interval.is_zero() {
            let mut next_start = slot.next_start.lock().await;
            let now = Instant::now();
            if *next_start > now {
                tokio::time::sleep_until(*next_start).await;
            }
            *next_start = Instant::now() + self.min_interval;
        }
        Some(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_and_other_hosts_are_not_held_up() {
        let pacing = HostPacing::new(4, Duration::from_secs(2));
        let start = Instant::now();
        let _a = pacing.acquire("example.org").await;
        let _b = pacing.acquire("example.org").await;
        let _c = pacing.acquire("EXAMPLE.org").await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(4),
            "third start waits two spacings"
        );
        let before = Instant::now();
        let _d = pacing.acquire("other.example").await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn per_host_limit_holds_until_a_permit_is_released() {
        let pacing = Arc::new(HostPacing::new(1, Duration::ZERO));
        let first = pacing.acquire("example.org").await;
        let waiting = {
            let pacing = Arc::clone(&pacing);
            tokio::spawn(async move { pacing.acquire("example.org").await.is_some() })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!waiting.is_finished(), "second request waits for the first");
        drop(first);
        assert!(waiting.await.unwrap_or(false));
    }
}
