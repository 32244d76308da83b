//! Lanes for long operations: each kind (compression trials, "run now", chunk compress or
//! decompress) has a cap of its own, and all of them together leave a share of the pool
//! for the refresher, sign-in and page reads. Thirty trials at once used to take every
//! connection: viewers then waited 10 s for a 503 and the background tasks timed out. A
//! request over its lane's cap is refused at once with `Retry-After`, never queued.

use crate::error::AppError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Connections of the pool long operations never take together.
const RESERVED: usize = 3;

/// A kind of long operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A compression trial (copies and compresses a chunk, rolled back).
    Trial,
    /// "Run now" of a job (up to `MS5_JOB_RUN_TIMEOUT_SECONDS`).
    RunNow,
    /// Compressing or decompressing one chunk.
    Chunk,
}

impl Lane {
    /// At most this many of the kind at once.
    fn cap(self) -> usize {
        match self {
            Lane::Trial => 2,
            Lane::RunNow => 3,
            Lane::Chunk => 2,
        }
    }

    fn index(self) -> usize {
        match self {
            Lane::Trial => 0,
            Lane::RunNow => 1,
            Lane::Chunk => 2,
        }
    }

    /// In words, for the refusal.
    fn what(self) -> &'static str {
        match self {
            Lane::Trial => "compression trials",
            Lane::RunNow => "job runs started from the console",
            Lane::Chunk => "chunk compressions or decompressions",
        }
    }
}

/// The lanes' counts, shared by clones.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    counts: Arc<[AtomicUsize; 4]>,
}

/// A place in a lane, given back when dropped.
#[derive(Debug)]
pub struct Place {
    counts: Arc<[AtomicUsize; 4]>,
    lane: usize,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.counts[self.lane].fetch_sub(1, Ordering::SeqCst);
        self.counts[3].fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes a place in `counter` if it holds fewer than `cap`.
fn take(counter: &AtomicUsize, cap: usize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < cap).then_some(n + 1)
        })
        .is_ok()
}

impl Lanes {
    /// A place in `lane` for an operation on a pool of `pool_size` connections, or
    /// `Busy` at once when the lane or all long operations together are full.
    pub fn enter(&self, lane: Lane, pool_size: u32) -> Result<Place, AppError> {
        let total = (pool_size as usize).saturating_sub(RESERVED).max(1);
        let cap = lane.cap().min(total);
        if !take(&self.counts[lane.index()], cap) {
            return Err(AppError::Busy(format!(
                "{} already run{} (at most {cap} at once)",
                lane.what(),
                if cap == 1 { "s" } else { "" }
            )));
        }
        if !take(&self.counts[3], total) {
            self.counts[lane.index()].fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Busy(format!(
                "{total} long operation(s) already hold the connections the console lends them"
            )));
        }
        Ok(Place {
            counts: self.counts.clone(),
            lane: lane.index(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lane_has_a_cap_and_all_together_leave_the_reserve() {
        let lanes = Lanes::default();
        let trials: Vec<Place> = (0..2)
            .map(|_| lanes.enter(Lane::Trial, 10).unwrap())
            .collect();
        let refused = lanes.enter(Lane::Trial, 10).unwrap_err();
        assert_eq!(refused.status(), 503);
        assert!(refused.retry_after_seconds().is_some());
        assert!(
            refused.to_string().contains("compression trials"),
            "{refused}"
        );
        // Ten connections, three kept: seven long operations at most, here 2 + 3 + 2.
        let runs: Vec<Place> = (0..3)
            .map(|_| lanes.enter(Lane::RunNow, 10).unwrap())
            .collect();
        let chunk = lanes.enter(Lane::Chunk, 10).unwrap();
        // A pool of five keeps three: two long operations at most, and five are running.
        assert!(lanes.enter(Lane::Chunk, 5).is_err());
        drop(trials);
        drop(runs);
        drop(chunk);
        // A one-connection server: one long operation at a time.
        let only = lanes.enter(Lane::RunNow, 1).unwrap();
        assert!(lanes.enter(Lane::Trial, 1).is_err());
        drop(only);
        assert!(lanes.enter(Lane::Trial, 1).is_ok());
    }
}
