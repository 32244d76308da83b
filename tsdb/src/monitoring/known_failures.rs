//! Job errors whose cause is known and not obvious from the text: the admin reading a
//! failing job at 3 a.m. gets the cause and the fix beside TimescaleDB's message.

/// Substrings of job error messages, and what they mean.
const KNOWN: &[(&str, &str)] = &[
    (
        "cannot drop portal \"\" while it is being set up",
        "A PostgreSQL minor release (Debian's 15.20 among them) added a check that every \
         TimescaleDB background job trips over: policies and user-defined jobs alike fail, \
         the same jobs succeed on the release before (15.18). Pin that release until \
         TimescaleDB ships a fix; meanwhile nothing is compressed, dropped or refreshed.",
    ),
    (
        "deadlock detected",
        "Another job working on the same table at the same moment (typically its \
         compression and its retention policy) held a lock this run needed, and PostgreSQL \
         cancelled this run to break the deadlock. TimescaleDB runs it again after its retry \
         period; the console raises an alert only when it fails three times in a row. The \
         policies the console creates start at different times so that this is rare.",
    ),
    (
        "must be preloaded",
        "TimescaleDB is not in shared_preload_libraries: add \
         shared_preload_libraries = 'timescaledb' to postgresql.conf and restart PostgreSQL.",
    ),
];

/// What is known about an error message's cause, if anything.
pub fn explain(error: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(pattern, _)| error.contains(pattern))
        .map(|(_, cause)| *cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_check_of_postgresql_15_20_is_recognised() {
        let cause = explain("cannot drop portal \"\" while it is being set up").unwrap();
        assert!(cause.contains("15.18"), "{cause}");
        assert!(explain("job 1002 threw an error: division by zero").is_none());
    }
}
