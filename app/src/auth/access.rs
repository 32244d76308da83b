//! Who may call what: the one table the server's guard enforces before any server
//! function or page runs. Anything not listed is refused, so a new server function
//! without an entry fails closed (and fails the route-by-role test).

use tsdb::types::Role;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A caller holding at least this role.
    Role(Role),
}

/// Every server function, by path, with the access it requires.
pub const SERVER_FNS: &[(&str, Access)] = &[
    ("/api/fn/current-user", Access::Public),
    ("/api/fn/login", Access::Public),
    ("/api/fn/logout", Access::Public),
    ("/api/fn/startup-status", Access::Public),
    ("/api/fn/overview", Access::Role(Role::Viewer)),
    ("/api/fn/hypertables", Access::Role(Role::Viewer)),
    ("/api/fn/catalog-fallback", Access::Role(Role::Viewer)),
    ("/api/fn/hypertable", Access::Role(Role::Viewer)),
    ("/api/fn/chunks", Access::Role(Role::Viewer)),
    ("/api/fn/compress-chunk", Access::Role(Role::Operator)),
    ("/api/fn/refresh", Access::Role(Role::Admin)),
    ("/api/fn/my-sessions", Access::Role(Role::Viewer)),
    ("/api/fn/end-session", Access::Role(Role::Viewer)),
    ("/api/fn/change-password", Access::Role(Role::Viewer)),
    ("/api/fn/users", Access::Role(Role::Admin)),
    ("/api/fn/create-user", Access::Role(Role::Admin)),
    ("/api/fn/update-user", Access::Role(Role::Admin)),
    ("/api/fn/reset-password", Access::Role(Role::Admin)),
    ("/api/fn/tokens", Access::Role(Role::Admin)),
    ("/api/fn/create-token", Access::Role(Role::Admin)),
    ("/api/fn/revoke-token", Access::Role(Role::Admin)),
    ("/api/fn/audit-log", Access::Role(Role::Admin)),
    ("/api/fn/bench", Access::Role(Role::Admin)),
    ("/api/fn/bench-status", Access::Role(Role::Admin)),
    ("/api/fn/start-bench", Access::Role(Role::Admin)),
    ("/api/fn/stop-bench", Access::Role(Role::Admin)),
    ("/api/fn/policies", Access::Role(Role::Viewer)),
    ("/api/fn/policy", Access::Role(Role::Viewer)),
    ("/api/fn/preview-policy", Access::Role(Role::Admin)),
    ("/api/fn/save-policy", Access::Role(Role::Admin)),
    ("/api/fn/apply-policies", Access::Role(Role::Admin)),
    ("/api/fn/apply-policy", Access::Role(Role::Admin)),
    ("/api/fn/revert-policy", Access::Role(Role::Admin)),
    ("/api/fn/preview-revert", Access::Role(Role::Admin)),
    ("/api/fn/decompress-chunk", Access::Role(Role::Operator)),
    ("/api/fn/jobs", Access::Role(Role::Viewer)),
    ("/api/fn/storage-trends", Access::Role(Role::Viewer)),
    ("/api/fn/storage-outlook", Access::Role(Role::Viewer)),
    ("/api/fn/diagnostics", Access::Role(Role::Viewer)),
    ("/api/fn/advice", Access::Role(Role::Viewer)),
    ("/api/fn/compression-trial", Access::Role(Role::Operator)),
    ("/api/fn/job", Access::Role(Role::Viewer)),
    ("/api/fn/run-job", Access::Role(Role::Operator)),
    ("/api/fn/set-job-scheduled", Access::Role(Role::Operator)),
    ("/api/fn/set-job-schedule", Access::Role(Role::Admin)),
    ("/api/fn/enable-job-logging", Access::Role(Role::Admin)),
    // Public: answers an empty list without a session (the banner is on every page).
    ("/api/fn/open-alerts", Access::Public),
    ("/api/fn/alerts", Access::Role(Role::Viewer)),
    ("/api/fn/acknowledge-alert", Access::Role(Role::Operator)),
];

/// The access a server function requires; `None` when it is not in the table.
pub fn server_fn_access(path: &str) -> Option<Access> {
    SERVER_FNS
        .iter()
        .find(|(listed, _)| *listed == path)
        .map(|(_, access)| *access)
}

/// The access a page requires: the login page is public, `/admin` pages are for admins,
/// every other page for any signed-in user.
pub fn page_access(path: &str) -> Access {
    if path == "/login" {
        Access::Public
    } else if path == "/admin" || path.starts_with("/admin/") {
        Access::Role(Role::Admin)
    } else {
        Access::Role(Role::Viewer)
    }
}
