//! Credentials verified recently, so a request does not cost the database a round trip
//! to learn again who is asking. An entry is used only while all of these hold:
//!
//! - it is younger than [`FRESH_FOR`] (bounds how late a session's idle or absolute
//!   time-out, and a token's `last_used_at`, are seen);
//! - the credentials epoch the database watch last read (every second) is the one the
//!   entry was verified under: any change to roles, accounts, sessions or tokens, made
//!   by any console instance or by hand in SQL, moves it (a trigger) and so empties every
//!   instance's cache within about a second;
//! - this instance has not handled a state-changing request since (the guard empties
//!   the cache after every one, so a change made here applies at the very next request).
//!
//! Without a known epoch (the watch could not read it) nothing is cached.
//!
//! When an entry expires, the requests that miss on it at the same moment wait for one of
//! them to ask the database (`flights`) instead of all asking at once.

use super::flights::{Boarding, Flights};
use super::principal::Principal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_sessions::session::{Id, Record};

/// The longest an entry is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// Entries kept at most; past it the cache starts over (a bound on memory, not a policy).
const CAPACITY: usize = 10_000;

/// What a credential is known by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// An API token's SHA-256 (never the token itself).
    Token([u8; 32]),
    /// A session's `console.user_sessions.key`.
    Session(String),
}

/// The verified credentials of this console instance, and the session records read
/// (kept by the session store under the same rules).
#[derive(Debug, Clone, Default)]
pub struct CredentialCache {
    inner: Arc<Mutex<Inner>>,
    records: Arc<Mutex<HashMap<Id, Recent>>>,
    verifying: Flights<CacheKey>,
    loading: Flights<Id>,
    counters: Arc<Counters>,
}

/// Counted since start-up, for `/metrics`: how the cache does.
#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    lookups: AtomicU64,
    record_reads: AtomicU64,
}

/// How often a caller was found in the cache and how often the database was asked, since
/// start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Callers answered from the cache (including those that waited for another
    /// request's look-up).
    pub hits: u64,
    /// Callers the database was asked about.
    pub lookups: u64,
    /// Session records read from the database.
    pub record_reads: u64,
}

/// A session record as the database had it, under which epoch, and when.
#[derive(Debug)]
struct Recent {
    record: Record,
    epoch: i64,
    read: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    /// The epoch the watch last read; `None` until read, or when it could not be.
    epoch: Option<i64>,
    /// Moves on every local emptying, so a verification that began before one is not
    /// stored after it.
    generation: u64,
    entries: HashMap<CacheKey, Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    principal: Principal,
    epoch: i64,
    verified: Instant,
}

/// What [`CredentialCache::lookup`] found.
#[derive(Debug)]
pub enum Lookup {
    /// A caller verified recently.
    Found(Principal),
    /// Nothing usable: ask the database, holding this (when caching is on) until the
    /// answer is stored, so requests for the same credential wait for it.
    Missing(Option<Boarding<CacheKey>>),
}

/// Where a verification started: handed back to [`CredentialCache::store`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    epoch: Option<i64>,
    generation: u64,
}

impl CredentialCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached caller for `key`, when the entry may still be trusted.
    pub fn get(&self, key: &CacheKey) -> Option<Principal> {
        let inner = self.inner();
        let epoch = inner.epoch?;
        let found = inner
            .entries
            .get(key)
            .filter(|entry| entry.epoch == epoch && entry.verified.elapsed() < FRESH_FOR)
            .map(|entry| entry.principal.clone());
        if found.is_some() {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The counts so far.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.counters.hits.load(Ordering::Relaxed),
            lookups: self.counters.lookups.load(Ordering::Relaxed),
            record_reads: self.counters.record_reads.load(Ordering::Relaxed),
        }
    }

    /// Counts a session record read from the database.
    pub fn count_record_read(&self) {
        self.counters.record_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// The cached caller for `key`; on a miss, waits while another request of this
    /// instance verifies the same credential and looks again, so clients missing together
    /// cost one look-up.
    pub async fn lookup(&self, key: &CacheKey) -> Lookup {
        if let Some(principal) = self.get(key) {
            return Lookup::Found(principal);
        }
        // Without an epoch nothing is stored, so waiting for another's answer is useless.
        let alone = match self.epoch() {
            Some(_) => Some(self.verifying.board(key).await),
            None => None,
        };
        match self.get(key) {
            Some(principal) => Lookup::Found(principal),
            None => Lookup::Missing(alone),
        }
    }

    /// Waits while another request of this instance reads session `id`'s record; the
    /// caller then looks in the cache again. `None` (no waiting) while nothing is cached.
    pub async fn load_alone(&self, id: &Id) -> Option<Boarding<Id>> {
        self.epoch()?;
        Some(self.loading.board(id).await)
    }

    /// Taken before asking the database (and counted as a look-up), so what it says is
    /// stored only if nothing changed meanwhile.
    pub fn ticket(&self) -> Ticket {
        self.counters.lookups.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner();
        Ticket {
            epoch: inner.epoch,
            generation: inner.generation,
        }
    }

    /// Remembers what the database said about `key` under `ticket`.
    pub fn store(&self, ticket: Ticket, key: CacheKey, principal: Principal) {
        let mut inner = self.inner();
        let Some(epoch) = ticket.epoch else {
            return;
        };
        if inner.epoch != Some(epoch) || inner.generation != ticket.generation {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        inner.entries.insert(
            key,
            Entry {
                principal,
                epoch,
                verified: Instant::now(),
            },
        );
    }

    /// The epoch the database watch last read, if any.
    pub fn epoch(&self) -> Option<i64> {
        self.inner().epoch
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Recent>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session record kept for `id`, while fresh, under the current epoch and not
    /// expired.
    pub fn session_record(&self, id: &Id) -> Option<Record> {
        let epoch = self.epoch()?;
        let now = time::OffsetDateTime::now_utc();
        self.records()
            .get(id)
            .filter(|r| {
                r.epoch == epoch && r.read.elapsed() < FRESH_FOR && r.record.expiry_date > now
            })
            .map(|r| r.record.clone())
    }

    /// Keeps `record` as the database now has it (nothing without a known epoch).
    pub fn keep_session_record(&self, record: &Record) {
        let Some(epoch) = self.epoch() else {
            return;
        };
        let mut records = self.records();
        if records.len() >= CAPACITY {
            records.clear();
        }
        records.insert(
            record.id,
            Recent {
                record: record.clone(),
                epoch,
                read: Instant::now(),
            },
        );
    }

    /// Drops the record kept for `id` (it is being written or deleted).
    pub fn drop_session_record(&self, id: &Id) {
        self.records().remove(id);
    }

    /// Forgets everything (after a state-changing request of this instance).
    pub fn forget_all(&self) {
        let mut inner = self.inner();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }

    /// The epoch the database watch read; `None` turns caching off.
    pub fn set_epoch(&self, epoch: Option<i64>) {
        let mut inner = self.inner();
        if inner.epoch != epoch {
            inner.epoch = epoch;
            inner.generation = inner.generation.wrapping_add(1);
            inner.entries.clear();
            drop(inner);
            self.records().clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsdb::audit::Actor;
    use tsdb::types::Role;

    fn someone() -> Principal {
        Principal {
            actor: Actor::User {
                id: 1,
                name: "ada".into(),
            },
            role: Role::Admin,
            session_id: Some(7),
        }
    }

    fn key() -> CacheKey {
        CacheKey::Session("k".into())
    }

    #[test]
    fn nothing_is_cached_without_an_epoch() {
        let cache = CredentialCache::default();
        cache.store(cache.ticket(), key(), someone());
        assert!(cache.get(&key()).is_none());
    }

    #[test]
    fn a_new_epoch_or_a_local_change_forgets_what_was_verified() {
        let cache = CredentialCache::default();
        cache.set_epoch(Some(1));
        cache.store(cache.ticket(), key(), someone());
        assert_eq!(cache.get(&key()), Some(someone()));
        cache.set_epoch(Some(2));
        assert!(cache.get(&key()).is_none());
        cache.store(cache.ticket(), key(), someone());
        cache.forget_all();
        assert!(cache.get(&key()).is_none());
        cache.store(cache.ticket(), key(), someone());
        cache.set_epoch(None);
        assert!(cache.get(&key()).is_none());
    }

    #[test]
    fn a_verification_overtaken_by_a_change_is_not_stored() {
        let cache = CredentialCache::default();
        cache.set_epoch(Some(1));
        let before_revoke = cache.ticket();
        cache.forget_all();
        cache.store(before_revoke, key(), someone());
        assert!(cache.get(&key()).is_none(), "stored after a local change");
        let before_epoch = cache.ticket();
        cache.set_epoch(Some(2));
        cache.store(before_epoch, key(), someone());
        assert!(cache.get(&key()).is_none(), "stored under an old epoch");
    }
}
