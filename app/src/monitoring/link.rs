//! Whether the database answers right now, as the database watch last found it. While it
//! is down, requests fail at once with "database unavailable" instead of each waiting
//! for the pool, and health says `down` within seconds of the database going away.

use chrono::{DateTime, Utc};
use std::sync::{Arc, RwLock};

/// The database watch's latest verdict, shared by every request.
#[derive(Debug, Clone, Default)]
pub struct DatabaseLink {
    down: Arc<RwLock<Option<Outage>>>,
    /// Since when the server has refused the watch a new connection (`max_connections`).
    crowded: Arc<RwLock<Option<DateTime<Utc>>>>,
}

/// Since when the database has not answered, and the last reason why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// When the first probe failed.
    pub since: DateTime<Utc>,
    /// The latest failure, for the log and the health details (never sent to pages).
    pub reason: String,
}

impl DatabaseLink {
    /// Whether the last probe failed.
    pub fn is_down(&self) -> bool {
        self.outage().is_some()
    }

    /// The outage under way, if any.
    pub fn outage(&self) -> Option<Outage> {
        self.down.read().map(|down| down.clone()).unwrap_or(None)
    }

    /// Records a failed probe; true when the database was up until now.
    pub fn mark_down(&self, reason: String) -> bool {
        let Ok(mut down) = self.down.write() else {
            return false;
        };
        match down.as_mut() {
            Some(outage) => {
                outage.reason = reason;
                false
            }
            None => {
                *down = Some(Outage {
                    since: Utc::now(),
                    reason,
                });
                true
            }
        }
    }

    /// Records an answer; the outage it ends, if there was one.
    pub fn mark_up(&self) -> Option<Outage> {
        if let Ok(mut crowded) = self.crowded.write() {
            crowded.take();
        }
        self.down.write().ok()?.take()
    }

    /// Records that the server answered but refused a new connection (it is at
    /// `max_connections`): alive, so not an outage; true when this starts it.
    pub fn mark_crowded(&self) -> bool {
        let Ok(mut crowded) = self.crowded.write() else {
            return false;
        };
        let starts = crowded.is_none();
        crowded.get_or_insert_with(Utc::now);
        starts
    }

    /// Since when the server has been refusing new connections, if it is.
    pub fn crowded_since(&self) -> Option<DateTime<Utc>> {
        self.crowded.read().map(|c| *c).unwrap_or(None)
    }

    /// A sentence for the pages while the server refuses new connections.
    pub fn pressure(&self) -> Option<String> {
        self.crowded_since().map(|since| {
            format!(
                "Since {} UTC the database has refused the console new connections: it has reached max_connections. Pages work on the connections the console already holds; actions that need another one fail until slots free up. Close idle sessions or raise max_connections.",
                since.format("%H:%M:%S")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_starts_once_and_ends_with_the_first_answer() {
        let link = DatabaseLink::default();
        assert!(!link.is_down());
        assert!(link.mark_up().is_none(), "no outage to end");
        assert!(link.mark_down("refused".into()));
        let since = link.outage().map(|o| o.since);
        assert!(!link.mark_down("still refused".into()), "already down");
        let outage = link.outage().expect("down");
        assert_eq!(
            Some(outage.since),
            since,
            "the start stays the first failure"
        );
        assert_eq!(outage.reason, "still refused");
        let ended = link.mark_up().expect("the outage ends");
        assert_eq!(ended.reason, "still refused");
        assert!(!link.is_down());
    }

    #[test]
    fn a_crowded_server_is_not_down_and_the_first_answer_clears_it() {
        let link = DatabaseLink::default();
        assert!(link.pressure().is_none());
        assert!(link.mark_crowded(), "starts");
        let since = link.crowded_since();
        assert!(!link.mark_crowded(), "already crowded");
        assert_eq!(link.crowded_since(), since, "the start stays");
        assert!(!link.is_down());
        assert!(link
            .pressure()
            .is_some_and(|p| p.contains("max_connections")));
        assert!(link.mark_up().is_none(), "no outage to end");
        assert!(link.pressure().is_none());
    }
}
