//! The state every handler and server function reads: one value, handed to axum as its
//! state and to Leptos as context, so it reaches code one way.

use crate::alerts::board::AlertBoard;
use crate::auth::proxy::TrustedProxies;
use crate::auth::settings::AuthSettings;
use crate::bench::board::BenchBoard;
use crate::error::AppError;
use crate::jobs::config::JobConfig;
use crate::monitoring::feed::Monitor;
use crate::monitoring::link::DatabaseLink;
use crate::policies::status::PolicyStatus;
use crate::storage::config::StorageConfig;
use crate::tasks::TaskBoard;
use axum::extract::FromRef;
use leptos::prelude::*;
use sqlx::PgPool;
use std::sync::{Arc, RwLock};
use tsdb::capabilities::Capabilities;
use tsdb::types::StartupStatus;

/// Where start-up stands; health and pages read it instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupPhase {
    /// Waiting for the database to answer.
    Connecting,
    /// Connected; applying migrations.
    Migrating,
    /// Migrated; generating demo data in the background (pages already work).
    LoadingDemoData,
    /// All start-up work finished.
    Ready,
    /// A start-up step failed; the console serves what it can.
    Failed(String),
}

impl StartupPhase {
    /// What pages may show: the phase without the failure's details.
    pub fn status(&self) -> StartupStatus {
        match self {
            StartupPhase::Connecting => StartupStatus::Connecting,
            StartupPhase::Migrating => StartupStatus::Migrating,
            StartupPhase::LoadingDemoData => StartupStatus::LoadingDemoData,
            StartupPhase::Ready => StartupStatus::Ready,
            StartupPhase::Failed(_) => StartupStatus::Failed,
        }
    }
}

/// The database side of the state, filled in by the start-up task.
#[derive(Debug, Default)]
pub struct DatabaseSlot {
    /// The pool, once connected.
    pub pool: Option<PgPool>,
    /// What the server can do, probed at connect time.
    pub capabilities: Option<Capabilities>,
}

/// Shared application state.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' site options (addresses, asset paths).
    pub leptos_options: LeptosOptions,
    /// The pool and capabilities, empty until connected.
    pub database: Arc<RwLock<DatabaseSlot>>,
    /// Start-up progress.
    pub phase: Arc<RwLock<StartupPhase>>,
    /// Session time-outs and cookie policy.
    pub auth: AuthSettings,
    /// The monitoring snapshot and its refresher's state.
    pub monitor: Monitor,
    /// Every background task's state, written by their supervisor.
    pub tasks: TaskBoard,
    /// Where desired policies come from (defaults, file sections, managed patterns).
    pub policy_source: Arc<tsdb::policy::desired::PolicySource>,
    /// The latest policy apply.
    pub policies: PolicyStatus,
    /// Open alerts, published by the job watcher.
    pub alerts: AlertBoard,
    /// "Run now" time-out and the webhook.
    pub job_config: JobConfig,
    /// The storage budget, forecast horizon and sample interval.
    pub storage_config: StorageConfig,
    /// The effective configuration as `name = value` pairs, secrets already redacted.
    pub configuration: Arc<Vec<(String, String)>>,
    /// Seconds between monitoring passes (health calls older snapshots stale).
    pub monitor_interval_seconds: u32,
    /// Whether the internal catalog may be read (`MS5_CATALOG_READS`), applied to every
    /// probe stored.
    pub catalog_reads: tsdb::contract::CatalogReads,
    /// Whether the database answered the database watch's last probe.
    pub link: DatabaseLink,
    /// Reverse proxies whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// The bench run started from the admin page, if any.
    pub bench: BenchBoard,
    /// Credentials verified in the last seconds (see `auth::cache`).
    pub credentials: crate::auth::cache::CredentialCache,
    /// Caps on long operations (see `lanes`).
    pub lanes: crate::lanes::Lanes,
}

/// What the configuration decides about the state, given once when it is made: start-up
/// and the background tasks fill in the rest (the pool and probe, the snapshot, the
/// boards, the alerts).
#[derive(Clone)]
pub struct StateConfig {
    /// Leptos' site options (addresses, asset paths).
    pub leptos_options: LeptosOptions,
    /// Session time-outs and cookie policy.
    pub auth: AuthSettings,
    /// The effective configuration as `name = value` pairs, secrets already redacted.
    pub configuration: Arc<Vec<(String, String)>>,
    /// Seconds between monitoring passes.
    pub monitor_interval_seconds: u32,
    /// Whether the internal catalog may be read (`MS5_CATALOG_READS`).
    pub catalog_reads: tsdb::contract::CatalogReads,
    /// Reverse proxies whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Where desired policies come from.
    pub policy_source: Arc<tsdb::policy::desired::PolicySource>,
    /// "Run now" time-out and the webhook.
    pub job_config: JobConfig,
    /// The storage budget, forecast horizon and sample interval.
    pub storage_config: StorageConfig,
    /// Whether the console runs in the production profile (a bench run must be confirmed).
    pub production: bool,
}

impl StateConfig {
    /// The built-in defaults: what a console given no settings uses.
    pub fn defaults(leptos_options: LeptosOptions) -> Self {
        Self {
            leptos_options,
            auth: AuthSettings::default(),
            configuration: Arc::default(),
            monitor_interval_seconds: 30,
            catalog_reads: Default::default(),
            trusted_proxies: Arc::default(),
            policy_source: Arc::new(tsdb::policy::desired::PolicySource {
                defaults: tsdb::policy::Policy::seed(),
                tables: Default::default(),
                managed_patterns: Vec::new(),
                builtin: Default::default(),
            }),
            job_config: JobConfig::default(),
            storage_config: StorageConfig::default(),
            production: false,
        }
    }
}

impl AppState {
    /// A state with no database yet, as `config` says.
    pub fn new(config: StateConfig) -> Self {
        Self {
            leptos_options: config.leptos_options,
            database: Arc::default(),
            phase: Arc::new(RwLock::new(StartupPhase::Connecting)),
            auth: config.auth,
            monitor: Monitor::default(),
            tasks: TaskBoard::default(),
            policy_source: config.policy_source,
            policies: PolicyStatus::default(),
            alerts: AlertBoard::default(),
            job_config: config.job_config,
            storage_config: config.storage_config,
            configuration: config.configuration,
            monitor_interval_seconds: config.monitor_interval_seconds,
            catalog_reads: config.catalog_reads,
            link: DatabaseLink::default(),
            trusted_proxies: config.trusted_proxies,
            bench: BenchBoard::new(config.production),
            credentials: Default::default(),
            lanes: Default::default(),
        }
    }

    /// The pool, or `DatabaseUnavailable` while start-up has not connected or the
    /// database watch finds the database gone, `ConnectionLimit` while the server refuses
    /// new connections and the pool holds none (so a request fails at once rather than
    /// waiting for a connection that cannot come).
    pub fn pool(&self) -> Result<PgPool, AppError> {
        if self.link.is_down() {
            return Err(AppError::DatabaseUnavailable);
        }
        let pool = self.connected_pool().ok_or(AppError::DatabaseUnavailable)?;
        if pool.size() == 0 && self.link.crowded_since().is_some() {
            return Err(AppError::ConnectionLimit);
        }
        Ok(pool)
    }

    /// Whether the database is out of reach: not connected yet, or the database watch
    /// finds it gone (a server that answers but is out of connections is not down).
    pub fn database_down(&self) -> bool {
        self.link.is_down() || self.connected_pool().is_none()
    }

    /// The pool once connected, whatever the link says: the database watch probes
    /// through it to notice the database's return.
    pub fn connected_pool(&self) -> Option<PgPool> {
        self.database.read().ok()?.pool.clone()
    }

    /// Publishes the pool with what the server can do, under one lock: no reader sees the
    /// new pool with the previous probe's capabilities.
    pub fn set_connection(&self, pool: PgPool, capabilities: Capabilities) {
        if let Ok(mut slot) = self.database.write() {
            slot.pool = Some(pool);
            slot.capabilities = Some(capabilities.with_catalog_reads(self.catalog_reads));
        }
    }

    /// Replaces the probed capabilities (at start-up; the database came back with another
    /// version), as `catalog_reads` allows.
    pub fn set_capabilities(&self, capabilities: Capabilities) {
        if let Ok(mut slot) = self.database.write() {
            slot.capabilities = Some(capabilities.with_catalog_reads(self.catalog_reads));
        }
    }

    /// The pool and capabilities once TimescaleDB is usable, else the reason it is not
    /// (not connected, not installed, not preloaded, unsupported).
    pub fn timescaledb(&self) -> Result<(PgPool, Capabilities), AppError> {
        let pool = self.pool()?;
        let capabilities = self.capabilities().ok_or(AppError::DatabaseUnavailable)?;
        capabilities.require_timescaledb()?;
        Ok((pool, capabilities))
    }

    /// A place in a long operation's lane (see `lanes`), or `Busy` at once.
    pub fn lane(&self, lane: crate::lanes::Lane) -> Result<crate::lanes::Place, AppError> {
        let pool = self.pool()?;
        self.lanes.enter(lane, pool.options().get_max_connections())
    }

    /// The probed capabilities, if connected.
    pub fn capabilities(&self) -> Option<Capabilities> {
        self.database.read().ok()?.capabilities.clone()
    }

    /// The current start-up phase.
    pub fn phase(&self) -> StartupPhase {
        self.phase
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|_| StartupPhase::Failed("start-up state poisoned".into()))
    }

    /// Moves start-up to `phase`.
    pub fn set_phase(&self, phase: StartupPhase) {
        if let Ok(mut current) = self.phase.write() {
            *current = phase;
        }
    }
}

/// The state inside a server function; provided as context by the server.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        AppError::internal("server function without state", "no AppState in context")
    })
}
