//! One database look-up per credential at a time. When a cached credential expires, every
//! client using it misses at once (50 load-test connections on one token: 50 identical
//! verifications on a one-connection server); the first asks the database, the others
//! wait for it and then find its answer in the cache.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as Lane, OwnedMutexGuard};

/// The look-ups under way, one lane per key; a lane is removed when its last user leaves.
#[derive(Debug)]
pub struct Flights<K> {
    lanes: Arc<Mutex<HashMap<K, Arc<Lane<()>>>>>,
}

impl<K> Default for Flights<K> {
    fn default() -> Self {
        Self {
            lanes: Arc::default(),
        }
    }
}

impl<K> Clone for Flights<K> {
    fn clone(&self) -> Self {
        Self {
            lanes: self.lanes.clone(),
        }
    }
}

/// The right to look `key` up; others asking for the same key wait until it is dropped.
#[derive(Debug)]
pub struct Boarding<K: Hash + Eq> {
    lanes: Arc<Mutex<HashMap<K, Arc<Lane<()>>>>>,
    key: K,
    lane: Arc<Lane<()>>,
    held: Option<OwnedMutexGuard<()>>,
}

impl<K: Hash + Eq + Clone> Flights<K> {
    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<Lane<()>>>> {
        self.lanes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until no one else is looking `key` up, then holds the lane.
    pub async fn board(&self, key: &K) -> Boarding<K> {
        // The lane is cloned under the map's lock, so the last user leaving (which checks
        // the count under the same lock) never removes a lane someone waits on.
        let lane = self.lanes().entry(key.clone()).or_default().clone();
        let held = lane.clone().lock_owned().await;
        Boarding {
            lanes: self.lanes.clone(),
            key: key.clone(),
            lane,
            held: Some(held),
        }
    }

    /// Lanes open now (waited on or held).
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lanes().len()
    }
}

impl<K: Hash + Eq> Drop for Boarding<K> {
    fn drop(&mut self) {
        self.held.take();
        let mut lanes = self
            .lanes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Two references: the map's and ours; any more is someone waiting.
        if Arc::strong_count(&self.lane) == 2 {
            lanes.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn the_same_key_waits_others_do_not_and_lanes_close_behind_their_users() {
        let flights = Flights::<&str>::default();
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (flights, inside, most) = (flights.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _boarded = flights.board(&"token").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        // Another key is not held up by the first one's queue.
        let other = flights.board(&"session").await;
        assert!(flights.open() >= 1);
        drop(other);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two look-ups of one key overlapped"
        );
        assert_eq!(flights.open(), 0, "a lane outlived its users");
    }
}
